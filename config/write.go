package config

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
)

// Values are the settings `coopfed init` and `coopfed dev` write into a new
// config. An empty field keeps the example's value.
type Values struct {
	Mode         string
	Host         string
	Listen       string
	CoopHandle   string
	CoopName     string
	DatabasePath string

	// DevHosts, when not empty, become the entries of [dev.hosts], written
	// after the example's comments in that section.
	DevHosts map[string]string
}

// Render returns example, the text of config.example.toml, with the
// settings in values written in, keeping every comment. It rewrites the
// value of each `key = value` line inside its [section], encoding the new
// value with the TOML library, so any name can be written safely. It then
// decodes the result, checks it holds exactly the values asked for, and
// validates it.
func Render(example []byte, values Values) ([]byte, error) {
	type setting struct{ section, key, value string }
	var want []setting
	add := func(section, key, value string) {
		if value != "" {
			want = append(want, setting{section, key, value})
		}
	}
	add("", "mode", values.Mode)
	add("server", "host", values.Host)
	add("server", "listen", values.Listen)
	add("coop", "handle", values.CoopHandle)
	add("coop", "name", values.CoopName)
	add("database", "path", values.DatabasePath)

	lines := strings.SplitAfter(string(example), "\n")
	done := make([]bool, len(want))
	section := ""
	devHosts := -1 // index of the [dev.hosts] header line
	for i, line := range lines {
		body, eol := cutEOL(line)
		if s, ok := sectionHeader(body); ok {
			section = s
			if s == "dev.hosts" {
				devHosts = i
			}
			continue
		}
		m := keyLine.FindStringSubmatch(body)
		if m == nil {
			continue
		}
		for j, w := range want {
			if w.section != section || w.key != m[2] {
				continue
			}
			rewritten, err := rewriteValue(body, len(m[0]), w.value)
			if err != nil {
				return nil, fmt.Errorf("config: render %s: %w", settingKey(w.section, w.key), err)
			}
			lines[i] = rewritten + eol
			done[j] = true
		}
	}
	for j, w := range want {
		if !done[j] {
			return nil, fmt.Errorf("config: render: the example has no %s line", settingKey(w.section, w.key))
		}
	}

	if len(values.DevHosts) > 0 {
		if devHosts < 0 {
			return nil, errors.New("config: render: the example has no [dev.hosts] section")
		}
		entries, err := toml.Marshal(values.DevHosts)
		if err != nil {
			return nil, fmt.Errorf("config: render dev.hosts: %w", err)
		}
		// Insert after the last non-blank line of the section, so the
		// entries follow its commented examples.
		at := devHosts + 1
		for i := devHosts + 1; i < len(lines); i++ {
			body, _ := cutEOL(lines[i])
			if _, ok := sectionHeader(body); ok {
				break
			}
			if strings.TrimSpace(body) != "" {
				at = i + 1
			}
		}
		if at > 0 && !strings.HasSuffix(lines[at-1], "\n") {
			lines[at-1] += "\n"
		}
		lines = slices.Insert(lines, at, string(entries))
	}

	out := []byte(strings.Join(lines, ""))
	c, err := decode("(rendered)", out)
	if err != nil {
		return nil, fmt.Errorf("config: render: %w", err)
	}
	got := map[string]string{
		"mode":          c.Mode,
		"server.host":   c.Server.Host,
		"server.listen": c.Server.Listen,
		"coop.handle":   c.Coop.Handle,
		"coop.name":     c.Coop.Name,
		"database.path": c.Database.Path,
	}
	for _, w := range want {
		k := settingKey(w.section, w.key)
		if got[k] != w.value {
			return nil, fmt.Errorf("config: render %s: wrote %q but it reads back as %q", k, w.value, got[k])
		}
	}
	if len(values.DevHosts) > 0 && !maps.Equal(c.Dev.Hosts, values.DevHosts) {
		return nil, fmt.Errorf("config: render dev.hosts: wrote %v but it reads back as %v", values.DevHosts, c.Dev.Hosts)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config: render: %w", err)
	}
	return out, nil
}

// keyLine matches the start of a `key = ` line: indent, bare key, and the
// equals sign with its spaces.
var keyLine = regexp.MustCompile(`^(\s*)([A-Za-z0-9_-]+)\s*=\s*`)

func settingKey(section, key string) string {
	if section == "" {
		return key
	}
	return section + "." + key
}

// cutEOL splits line into its text and its line ending ("\n", "\r\n" or "").
func cutEOL(line string) (body, eol string) {
	switch {
	case strings.HasSuffix(line, "\r\n"):
		return line[:len(line)-2], "\r\n"
	case strings.HasSuffix(line, "\n"):
		return line[:len(line)-1], "\n"
	}
	return line, ""
}

// sectionHeader returns the name of the section a `[name]` line opens,
// without spaces, quotes or a trailing comment.
func sectionHeader(line string) (string, bool) {
	s := strings.TrimSpace(line)
	if !strings.HasPrefix(s, "[") || strings.HasPrefix(s, "[[") {
		return "", false
	}
	name, _, ok := strings.Cut(s[1:], "]")
	if !ok {
		return "", false
	}
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return strings.Join(parts, "."), true
}

// rewriteValue replaces the value that starts at offset start of line with
// value encoded as a TOML string, keeping what follows it (a comment) at the
// same column when there is room.
func rewriteValue(line string, start int, value string) (string, error) {
	old, err := valueLen(line[start:])
	if err != nil {
		return "", err
	}
	enc, err := encodeString(value)
	if err != nil {
		return "", err
	}
	tail := line[start+old:]
	rest := strings.TrimLeft(tail, " \t")
	if rest == "" {
		return line[:start] + enc, nil
	}
	gap := utf8.RuneCountInString(line[start:start+old]) + len(tail) - len(rest) - utf8.RuneCountInString(enc)
	return line[:start] + enc + strings.Repeat(" ", max(gap, 1)) + rest, nil
}

// valueLen returns the length of the one-line TOML value s starts with.
func valueLen(s string) (int, error) {
	switch {
	case strings.HasPrefix(s, `"""`), strings.HasPrefix(s, "'''"):
		return 0, errors.New("cannot rewrite a multi-line string")
	case strings.HasPrefix(s, `"`):
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			}
		}
		return 0, errors.New("unterminated string")
	case strings.HasPrefix(s, "'"):
		if i := strings.IndexByte(s[1:], '\''); i >= 0 {
			return i + 2, nil
		}
		return 0, errors.New("unterminated string")
	}
	v, _, _ := strings.Cut(s, "#")
	return len(strings.TrimRight(v, " \t")), nil
}

// encodeString returns s as a TOML string value, as the TOML library writes it.
func encodeString(s string) (string, error) {
	b, err := toml.Marshal(struct {
		V string `toml:"v"`
	}{s})
	if err != nil {
		return "", err
	}
	enc, ok := strings.CutPrefix(string(b), "v = ")
	enc, nl := strings.CutSuffix(enc, "\n")
	if !ok || !nl || strings.Contains(enc, "\n") {
		return "", fmt.Errorf("unexpected TOML encoding %q", b)
	}
	return enc, nil
}

// WriteNew creates the file at path holding data, readable and writable by
// its owner only, since a config may come to hold secrets. It never
// overwrites: if path exists, the error says so and matches fs.ErrExist.
func WriteNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("config: %s already exists; not overwriting it: %w", path, fs.ErrExist)
	}
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// Leave no half-written config behind for the next WriteNew to
		// refuse.
		os.Remove(path)
		return fmt.Errorf("config: write %s: %w", path, err)
	}
	return nil
}
