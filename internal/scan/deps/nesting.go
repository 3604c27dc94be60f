package deps

// maxNesting bounds how deeply brackets may nest in a TOML or JSON file
// handed to a third-party parser: recursive-descent parsers turn deep
// nesting into deep recursion, and Go cannot recover from a stack
// overflow.
const maxNesting = 256

// nestingDepth returns the deepest nesting of [ and { in data, outside
// strings and comments. json selects JSON rules (no comments, no
// single-quoted strings); otherwise TOML rules apply. It is a
// conservative pre-check, not a parser: an unterminated string ends at
// the end of its line.
func nestingDepth(data []byte, json bool) int {
	depth, deepest := 0, 0
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '[', '{':
			depth++
			deepest = max(deepest, depth)
		case ']', '}':
			if depth > 0 {
				depth--
			}
		case '#':
			if json {
				continue
			}
			for i < len(data) && data[i] != '\n' {
				i++
			}
		case '"', '\'':
			if c == '\'' && json {
				continue
			}
			// Multi-line TOML strings ("""...""", '''...''').
			if !json && i+2 < len(data) && data[i+1] == c && data[i+2] == c {
				i += 3
				for i+2 < len(data) && !(data[i] == c && data[i+1] == c && data[i+2] == c) {
					if c == '"' && data[i] == '\\' {
						i++
					}
					i++
				}
				i += 2
				continue
			}
			for i++; i < len(data) && data[i] != c && data[i] != '\n'; i++ {
				if c == '"' && data[i] == '\\' {
					i++
				}
			}
		}
	}
	return deepest
}
