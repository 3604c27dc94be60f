package container

import (
	"path"
	"regexp"
	"strings"
)

// shellCommand is one simple command of a RUN script: its words with
// quotes removed, the pipeline it belongs to and its position there.
type shellCommand struct {
	words    []string
	pipeline int
	pos      int
}

// maxCommands bounds the simple commands kept for one RUN instruction.
const maxCommands = 4096

// splitShell splits a POSIX-shell-like script into simple commands. It is
// a reader for policy checks, not a shell: it honours quotes, backslash
// escapes, comments and the operators that separate commands (&&, ||, ;,
// &, |, newlines, parentheses and braces), and leaves expansions as
// written. Pipelines are numbered so that policies can tell "curl ... |
// sh" from "curl ...; sh".
func splitShell(script string) []shellCommand {
	var (
		out      []shellCommand
		words    []string
		word     strings.Builder
		inWord   bool
		pipeline int
		pos      int
	)
	endWord := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	endCommand := func(pipe bool) {
		endWord()
		if len(words) > 0 && len(out) < maxCommands {
			out = append(out, shellCommand{words: words, pipeline: pipeline, pos: pos})
			pos++
		}
		words = nil
		if !pipe {
			pipeline++
			pos = 0
		}
	}
	s := script
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 < len(s) {
				i++
				if s[i] != '\n' {
					word.WriteByte(s[i])
					inWord = true
				}
			}
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				word.WriteString(s[i+1:])
				i = len(s)
				break
			}
			word.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0 {
					i++
					if s[i] == '\n' {
						continue
					}
				}
				word.WriteByte(s[i])
			}
		case c == '#' && !inWord:
			for i < len(s) && s[i] != '\n' {
				i++
			}
			endCommand(false)
		case c == '|':
			if i+1 < len(s) && s[i+1] == '|' {
				i++
				endCommand(false)
				break
			}
			endCommand(true)
		case c == '&':
			if i+1 < len(s) && s[i+1] == '&' {
				i++
			}
			endCommand(false)
		case c == ';' || c == '\n' || c == '(' || c == ')' || c == '`':
			endCommand(false)
		case (c == '{' || c == '}') && !inWord && (i+1 == len(s) || isShellSpace(s[i+1]) || s[i+1] == ';'):
			endCommand(false)
		case isShellSpace(c):
			endWord()
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	endCommand(false)
	return out
}

func isShellSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' }

// assignment matches a leading VAR=value word.
var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// argv drops what runs a command rather than being it: leading variable
// assignments, and wrappers such as sudo, env, exec, command, nohup and
// time with their options. The program name is reduced to its base name,
// so "/usr/bin/apt-get" reads as "apt-get".
func argv(words []string) []string {
	i := 0
	for i < len(words) {
		w := words[i]
		switch {
		case assignment.MatchString(w):
			i++
		case w == "sudo" || w == "env" || w == "exec" || w == "command" || w == "nohup" || w == "time" || w == "doas":
			i++
			for i < len(words) && strings.HasPrefix(words[i], "-") {
				if (w == "sudo" && (words[i] == "-u" || words[i] == "-g")) || (w == "env" && words[i] == "-u") {
					i++
				}
				i++
			}
		default:
			out := append([]string(nil), words[i:]...)
			out[0] = path.Base(out[0])
			return out
		}
	}
	return nil
}
