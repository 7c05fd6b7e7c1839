package federation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
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

// decodeTwoPass is the decodeActivityJSONObject before the one-pass
// decoder (checkJSONShape for the bounds, then encoding/json), kept as
// the reference the one-pass decoder must agree with exactly: same
// documents accepted, same values, same object bytes.
func decodeTwoPass(body []byte, max int64) (map[string]any, []byte, error) {
	if int64(len(body)) > max {
		return nil, nil, fmt.Errorf("%w: the document is larger than %d bytes", errBadJSON, max)
	}
	object, err := checkJSONShape(body)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errBadJSON, err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, nil, fmt.Errorf("%w: %v", errBadJSON, err)
	}
	if len(bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, nil, fmt.Errorf("%w: data after the top-level object", errBadJSON)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("%w: not a JSON object", errBadJSON)
	}
	if _, isObject := m["object"].(map[string]any); !isObject {
		object = nil
	}
	return m, object, nil
}

// jsonFrame is an object or array open in checkJSONShape.
type jsonFrame struct {
	object    bool
	expectKey bool
	keys      int             // where this object's names start in the shared list
	n         int             // its members so far
	seen      map[string]bool // its names, once it has more than jsonLinearKeys
}

// jsonLinearKeys is how many names of an object are compared one by one
// before they go into a map.
const jsonLinearKeys = 16

// checkJSONShape checks the bounds of decodeActivityJSON on a document
// in one pass: depth, members per object, duplicate names (compared
// unescaped). It does not check the syntax (encoding/json does), and on
// a document that is not JSON its verdict does not matter: it only has to
// end. On the way it finds the top-level object's "object" member when
// its value is an object, and returns its bytes (nil if none; the caller
// checks the value's type after decoding).
func checkJSONShape(b []byte) (object []byte, err error) {
	var (
		stack []jsonFrame
		keys  [][]byte // the names of the open objects, innermost last
		// The value of the top-level "object" member: next is set by its
		// name, start where its '{' is; -1 when none.
		next, start = false, -1
	)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '{', '[':
			if len(stack) >= maxJSONDepth {
				return nil, fmt.Errorf("nested deeper than %d levels", maxJSONDepth)
			}
			if len(stack) == 1 && next {
				next = false
				if c == '{' {
					start = i
				}
			}
			stack = append(stack, jsonFrame{object: c == '{', expectKey: c == '{', keys: len(keys)})
		case '}', ']':
			if len(stack) == 0 {
				return nil, errors.New("unbalanced brackets")
			}
			keys = keys[:stack[len(stack)-1].keys]
			stack = stack[:len(stack)-1]
			if len(stack) == 1 && start >= 0 && object == nil {
				object = b[start : i+1]
			}
		case ',':
			if len(stack) == 1 {
				next = false
			}
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].expectKey = true
			}
		case '"':
			j, escaped := i+1, false
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					escaped = true
					j++
				}
				j++
			}
			if j >= len(b) {
				return nil, io.ErrUnexpectedEOF
			}
			raw := b[i+1 : j]
			i = j
			if len(stack) == 0 || !stack[len(stack)-1].expectKey {
				if len(stack) == 1 {
					next = false // a string value
				}
				continue
			}
			f := &stack[len(stack)-1]
			f.expectKey = false
			name := raw
			if escaped {
				var s string
				if err := json.Unmarshal(b[i-len(raw)-1:i+1], &s); err != nil {
					return nil, err
				}
				name = []byte(s)
			}
			if len(stack) == 1 {
				next = string(name) == "object"
			}
			if f.n >= maxJSONKeys {
				return nil, fmt.Errorf("an object has more than %d members", maxJSONKeys)
			}
			f.n++
			if f.seen == nil {
				for _, k := range keys[f.keys:] {
					if bytes.Equal(k, name) {
						return nil, fmt.Errorf("member %s appears twice", quote(string(name)))
					}
				}
				keys = append(keys, name)
				if f.n > jsonLinearKeys {
					f.seen = make(map[string]bool, 2*jsonLinearKeys)
					for _, k := range keys[f.keys:] {
						f.seen[string(k)] = true
					}
				}
				continue
			}
			if f.seen[string(name)] {
				return nil, fmt.Errorf("member %s appears twice", quote(string(name)))
			}
			f.seen[string(name)] = true
		}
	}
	return object, nil
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

// FuzzDecodeOnePass holds the one-pass decoder to the two-pass one it
// replaced: the same documents accepted, the same values (types
// included), the same object bytes.
func FuzzDecodeOnePass(f *testing.F) {
	addDecodeSeeds(f)
	// Names not UTF-8 are compared as written, so these three differ
	// (the token decoder, which compares them decoded, refuses them).
	f.Add([]byte("{\"\xff\":1,\"\xfe\":2,\"\\ufffd\":3}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, object, err := decodeActivityJSONObject(body, DefaultMaxBodyBytes)
		want, wantObject, werr := decodeTwoPass(body, DefaultMaxBodyBytes)
		if (err == nil) != (werr == nil) {
			t.Fatalf("accepted %v, the two-pass decoder %v: %v / %v", err == nil, werr == nil, err, werr)
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("values differ:\n two-pass %#v\n one-pass %#v", want, got)
		}
		if !bytes.Equal(object, wantObject) || (object == nil) != (wantObject == nil) {
			t.Errorf("object bytes %q, the two-pass decoder %q", object, wantObject)
		}
	})
}

func addDecodeSeeds(f *testing.F) {
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
	f.Add([]byte(`{"n":[-0,1.5e+3,-12E-2,0.0],"t":true,"f":false,"z":null,"e":{},"a":[],"s":"\ud83d\ude00 \ud800 é"}`))
	f.Add([]byte(nested(64)))
}

func FuzzDecodeActivityJSON(f *testing.F) {
	addDecodeSeeds(f)
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

// BenchmarkDecodeActivity: the inbox's decoding of a Create{Note} like
// coopbench's, one pass against the two it replaced.
func BenchmarkDecodeActivity(b *testing.B) {
	body := []byte(`{"@context":"https://www.w3.org/ns/activitystreams","actor":"https://remote1.example/users/bob",` +
		`"id":"https://remote1.example/users/bob/statuses/r1-17/activity","object":{"attributedTo":"https://remote1.example/users/bob",` +
		`"content":"\u003cp\u003eHello @alice, note 17 of round 1.\u003c/p\u003e","id":"https://remote1.example/users/bob/statuses/r1-17",` +
		`"published":"2026-11-25T19:04:17Z","to":["http://127.0.0.1:4000/users/alice"],"type":"Note"},"published":"2026-11-25T19:04:17Z",` +
		`"to":["http://127.0.0.1:4000/users/alice"],"type":"Create"}`)
	for _, d := range []struct {
		name string
		fn   func([]byte, int64) (map[string]any, []byte, error)
	}{{"one-pass", decodeActivityJSONObject}, {"two-pass", decodeTwoPass}} {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := d.fn(body, DefaultMaxBodyBytes); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
