package sign

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// PayloadType is the DSSE payload type of every model signature.
const PayloadType = "application/vnd.in-toto+json"

// pae is the DSSE v1 pre-authentication encoding: the bytes a signature
// covers.
func pae(payload []byte) []byte {
	return dsse.PAE(PayloadType, payload)
}

// legacyPAE is the message model_signing 0.2 signed by mistake for key and
// certificate signatures: "DSSEV1" (capital V), the lengths, and the
// payload as Python renders a bytes object with repr().
func legacyPAE(payload []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "DSSEV1 %d %s %d ", len(PayloadType), PayloadType, len(payload))
	b.WriteString(pythonBytesRepr(payload))
	return b.Bytes()
}

// pythonBytesRepr renders p as CPython's bytes.__repr__ does.
func pythonBytesRepr(p []byte) string {
	quote := byte('\'')
	if bytes.IndexByte(p, '\'') >= 0 && bytes.IndexByte(p, '"') < 0 {
		quote = '"'
	}
	out := make([]byte, 0, len(p)+3)
	out = append(out, 'b', quote)
	for _, c := range p {
		switch {
		case c == quote || c == '\\':
			out = append(out, '\\', c)
		case c == '\t':
			out = append(out, '\\', 't')
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\r':
			out = append(out, '\\', 'r')
		case c < 0x20 || c >= 0x7f:
			out = append(out, '\\', 'x')
			if c < 0x10 {
				out = append(out, '0')
			}
			out = strconv.AppendUint(out, uint64(c), 16)
		default:
			out = append(out, c)
		}
	}
	return string(append(out, quote))
}
