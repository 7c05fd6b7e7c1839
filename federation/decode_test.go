package federation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decodeByTokens is the first decodeActivityJSON, token by token, kept as
// the reference the faster one must agree with.
func decodeByTokens(body []byte, max int64) (map[string]any, error) {
	if int64(len(body)) > max {
		return nil, fmt.Errorf("%w: too large", errBadJSON)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := decodeTokenValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the top-level object", errBadJSON)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: not a JSON object", errBadJSON)
	}
	return m, nil
}

func decodeTokenValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= maxJSONDepth {
		return nil, fmt.Errorf("too deep")
	}
	switch d {
	case '{':
		m := map[string]any{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, ok := kt.(string)
			if !ok {
				return nil, fmt.Errorf("key %v", kt)
			}
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("dup %s", k)
			}
			if len(m) >= maxJSONKeys {
				return nil, fmt.Errorf("too many members")
			}
			v, err := decodeTokenValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		_, err := dec.Token()
		return m, err
	case '[':
		a := []any{}
		for dec.More() {
			v, err := decodeTokenValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err := dec.Token()
		return a, err
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

func nested(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }

func members(n int, last string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, `"k%d":%d,`, i, i)
	}
	b.WriteString(`"` + last + `":true}`)
	return b.String()
}

// TestDecodeActivityJSON: the one-pass bounds check and encoding/json
// decode accept and refuse what the token decoder did, with the same
// values.
func TestDecodeActivityJSON(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		ok   bool
	}{
		{"an activity", `{"id":"https://a/1","type":"Create","object":{"id":"https://a/n","tag":[{"type":"Mention"}],"n":1.50}}`, true},
		{"a duplicate name is refused", `{"id":"https://a/1","id":"https://b/1"}`, false},
		{"a duplicate name written with an escape is refused", `{"id":"https://a/1","\u0069d":"https://b/1"}`, false},
		{"a quote escaped in a name is not its end", `{"a\"b":1,"a":2}`, true},
		{"a duplicate in a nested object is refused", `{"o":{"x":1,"y":[1,{"z":1,"z":2}]}}`, false},
		{"the same name in two objects is fine", `{"x":{"x":{"x":1}},"y":[{"x":1},{"x":2}]}`, true},
		{"a string value like a name is not one", `{"a":"b","b":"a","c":["a","a"]}`, true},
		{"64 levels", nested(64), true},
		{"65 levels are refused", nested(65), false},
		{"1024 members", members(1023, "last"), true},
		{"1025 members are refused", members(1024, "last"), false},
		{"a duplicate past the first 16 names is refused", members(40, "k3"), false},
		{"a duplicate of a late name past the first 16 is refused", members(40, "k39"), false},
		{"data after the object is refused", `{"a":1} {"b":2}`, false},
		{"whitespace after it is fine", "{\"a\":1} \n\t", true},
		{"an array is refused", `[{"a":1}]`, false},
		{"truncated", `{"a":[1,2`, false},
		{"not JSON", `{"a":tru}`, false},
		{"empty", ``, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeActivityJSON([]byte(tc.doc), DefaultMaxBodyBytes)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			want, werr := decodeByTokens([]byte(tc.doc), DefaultMaxBodyBytes)
			if (werr == nil) != tc.ok {
				t.Fatalf("the token decoder: err = %v, want ok %v", werr, tc.ok)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-tokens +got):\n%s", diff)
			}
		})
	}
}

func FuzzDecodeActivityJSON(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"a":{"b":[{"c":1,"\u0063":2}]}}`))
	f.Add([]byte(members(20, "k1")))
	f.Add([]byte(`{"id":"x","obj\u0065ct":{"object":{"a":[1]},"b":"}"},"c":{"object":2}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, object, err := decodeActivityJSONObject(body, DefaultMaxBodyBytes)
		want, werr := decodeByTokens(body, DefaultMaxBodyBytes)
		if (err == nil) != (werr == nil) {
			t.Fatalf("accepted %v, the token decoder %v: %v / %v", err == nil, werr == nil, err, werr)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-tokens +got):\n%s", diff)
		}
		checkRawObject(t, got, object)
	})
}

// checkRawObject checks decodeActivityJSONObject's object bytes against
// its decoding: present exactly when "object" is a JSON object, and
// decoding to the same value.
func checkRawObject(t *testing.T, m map[string]any, object []byte) {
	t.Helper()
	want, isObject := m["object"].(map[string]any)
	if !isObject {
		if object != nil {
			t.Fatalf("object bytes %q for a non-object %v", object, m["object"])
		}
		return
	}
	if object == nil {
		t.Fatalf("no object bytes for %v", want)
	}
	dec := json.NewDecoder(bytes.NewReader(object))
	dec.UseNumber()
	var got map[string]any
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("object bytes %q: %v", object, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("object bytes %q (-decoded +bytes):\n%s", object, diff)
	}
}

func TestDecodeActivityJSONObject(t *testing.T) {
	for _, tc := range []struct{ name, body, object string }{
		{"an embedded object", `{"id":"a","object":{"id":"n","to":["x"],"tag":[{"type":"Mention"}]},"to":[]}`,
			`{"id":"n","to":["x"],"tag":[{"type":"Mention"}]}`},
		{"spaces kept", `{"object" : { "id" : "n" } }`, `{ "id" : "n" }`},
		{"an escaped name", `{"obj\u0065ct":{"id":"n"}}`, `{"id":"n"}`},
		{"a brace in a string", `{"object":{"content":"}{\"}"}}`, `{"content":"}{\"}"}`},
		{"an id only", `{"object":"https://a.example/n","x":{"y":1}}`, ``},
		{"an array", `{"object":[{"id":"n"}],"x":{"y":1}}`, ``},
		{"a number, then an object", `{"object":1,"x":{"y":1}}`, ``},
		{"object members deeper do not count", `{"a":{"object":{"id":"n"}},"b":[{"object":{}}]}`, ``},
		{"none", `{"id":"a"}`, ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, object, err := decodeActivityJSONObject([]byte(tc.body), DefaultMaxBodyBytes)
			if err != nil {
				t.Fatal(err)
			}
			if string(object) != tc.object {
				t.Errorf("object = %q, want %q", object, tc.object)
			}
			checkRawObject(t, m, object)
		})
	}
}
