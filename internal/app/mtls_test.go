package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/api"
	"github.com/palisade-sec/palisade/internal/auditlog"
	"github.com/palisade-sec/palisade/internal/store"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a leaf certificate for subject, for a server (with an IP
// SAN) or a client.
func (ca testCA) issue(t *testing.T, subject pkix.Name, server bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func writePEM(t *testing.T, path string, c tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = path+".crt", path+".key"
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestMutualTLS: a client certificate signed by the configured client CA
// authenticates the service account whose certificate subject it carries;
// an unmapped subject, a user account's subject and a certificate of
// another CA do not; clients without a certificate still use tokens.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	serverCA, clientCA, otherCA := newTestCA(t, "server CA"), newTestCA(t, "client CA"), newTestCA(t, "other CA")
	certFile, keyFile := writePEM(t, filepath.Join(dir, "server"), serverCA.issue(t, pkix.Name{CommonName: "127.0.0.1"}, true))
	caFile := filepath.Join(dir, "clients.pem")
	if err := os.WriteFile(caFile, clientCA.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testServerConfig(t)
	cfg.TLSCert, cfg.TLSKey, cfg.TLSClientCA = certFile, keyFile, caFile
	addr, st := liveServer(t, cfg)
	ctx := t.Context()
	robot := pkix.Name{CommonName: "deployer", Organization: []string{"Example"}}
	if _, err := st.CreatePrincipal(ctx, store.Principal{ID: "s-deployer", Name: "deployer", Kind: store.KindService,
		Clearance: store.Internal, CertSubject: "CN=deployer,O=Example"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreatePrincipal(ctx, store.Principal{ID: "u-carol", Name: "carol", Kind: store.KindUser,
		Clearance: store.Internal}); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(serverCA.pem)
	client := func(certs ...tls.Certificate) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: certs, MinVersion: tls.VersionTLS12}}}
	}
	whoami := func(c *http.Client, token string) (int, api.Whoami) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://"+addr+"/api/v1/whoami", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, api.Whoami{}
		}
		defer resp.Body.Close()
		var w api.Whoami
		_ = json.NewDecoder(resp.Body).Decode(&w)
		return resp.StatusCode, w
	}

	if code, w := whoami(client(clientCA.issue(t, robot, false)), ""); code != 200 || w.Name != "deployer" || w.Via != "certificate" {
		t.Errorf("mapped client certificate: %d %+v, want the service account deployer", code, w)
	}
	// The certificate's authentication is in the audit log, as the
	// service account's.
	recs, err := st.AuditEntries(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recs {
		e, err := auditlog.Decode(r.Data)
		if err != nil {
			t.Fatalf("entry %d: %v", r.Index, err)
		}
		found = found || e.Action == auditlog.ActionAuthSuccess && e.Reason == "certificate" && e.Actor.Kind == auditlog.ActorService &&
			e.Object.Kind == auditlog.ObjectSession && strings.HasPrefix(e.Object.ID, "c1.") && len(e.Object.ID) == len("c1.")+22
	}
	if !found {
		t.Error("no auth.success entry with reason certificate for the service account")
	}
	if code, _ := whoami(client(clientCA.issue(t, pkix.Name{CommonName: "nobody"}, false)), ""); code != http.StatusUnauthorized {
		t.Errorf("unmapped subject: %d, want 401", code)
	}
	if code, _ := whoami(client(otherCA.issue(t, robot, false)), ""); code == http.StatusOK {
		t.Error("a certificate of another CA with the mapped subject authenticated")
	}
	if code, w := whoami(client(), e2eToken); code != 200 || w.Name != AdminName {
		t.Errorf("token without a certificate: %d %+v", code, w)
	}
	if code, _ := whoami(client(), ""); code != http.StatusUnauthorized {
		t.Errorf("neither certificate nor token: %d, want 401", code)
	}
	// Only service accounts authenticate with certificates.
	carol, err := st.PrincipalByName(ctx, "carol")
	if err != nil {
		t.Fatal(err)
	}
	carol.CertSubject = "CN=carol"
	if err := st.UpdatePrincipal(ctx, carol); err != nil {
		t.Fatal(err)
	}
	if code, _ := whoami(client(clientCA.issue(t, pkix.Name{CommonName: "carol"}, false)), ""); code != http.StatusUnauthorized {
		t.Errorf("a user's certificate subject: %d, want 401", code)
	}
}
