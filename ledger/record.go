package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// MaxRecordSize is the largest encoded record: a tlog-tiles entry bundle
// prefixes each entry with a big-endian uint16 length.
const MaxRecordSize = 0xFFFF

// maxSafeInt is the largest integer an IEEE 754 double holds exactly
// (2^53 - 1). RFC 8785 serializes numbers as doubles, so a larger integer
// would not survive canonicalization unchanged.
const maxSafeInt = 1<<53 - 1

// TimeFormat is the layout of a record's "time": RFC 3339, UTC, seconds.
const TimeFormat = "2006-01-02T15:04:05Z"

// The channels an action can come by (DESIGN.md, "Who acts, and who sees").
const (
	ChannelWeb    = "web"    // a member's web session
	ChannelCLI    = "cli"    // the command line, with the member's password
	ChannelRemote = "remote" // an HTTP-signed remote actor
	ChannelPeer   = "peer"   // a peer co-op's node
	ChannelSystem = "system" // the node itself (log rotation, scheduled closes)
)

// Errors of record encoding and parsing.
var (
	ErrFloat     = errors.New("ledger: floating-point number in record data")
	ErrIntRange  = errors.New("ledger: integer outside ±(2^53-1) in record data")
	ErrTooLarge  = errors.New("ledger: record larger than 65535 bytes")
	ErrChannel   = errors.New("ledger: unknown channel")
	ErrType      = errors.New("ledger: record has no type")
	ErrTime      = errors.New("ledger: record time missing or out of range")
	ErrUTF8      = errors.New("ledger: string is not valid UTF-8")
	ErrDataType  = errors.New("ledger: unsupported value in record data")
	ErrMalformed = errors.New("ledger: malformed record")
	ErrNotCanon  = errors.New("ledger: record is not RFC 8785 canonical JSON")
)

// A Record is one event of the decision log. Its encoding (Encode) is the
// log entry: the tree commits to those bytes, not to this struct.
type Record struct {
	Type      string    // "vote.cast", "member.admitted", ...
	Time      time.Time // when it happened; encoded in UTC, truncated to the second
	Principal string    // who acted (an actor IRI, a member handle, the node)
	Channel   string    // how: one of the Channel constants
	Subject   string    // what it is about (a proposal IRI, a member ...)
	// Data holds the event's details: strings, bools, nil, integers (any Go
	// integer type, or a json.Number without fraction or exponent) within
	// ±(2^53-1), and []any / map[string]any (or typed slices and maps with
	// string keys) of those. Never floats: ErrFloat. Personal data goes in
	// as a commitment (Commit), long texts as their hash (HashText).
	// ParseRecord returns integers as int64 and nested values as
	// []any and map[string]any.
	Data      map[string]any
	StateHash string // hash of the state the event refers to ("sha256:<hex>"), or ""
}

func validChannel(c string) bool {
	switch c {
	case ChannelWeb, ChannelCLI, ChannelRemote, ChannelPeer, ChannelSystem:
		return true
	}
	return false
}

// validTime reports whether t can be a record's time: not the zero
// time, and with a four-digit year after year 0.
func validTime(t time.Time) bool {
	y := t.UTC().Year()
	return !t.IsZero() && y >= 1 && y <= 9999
}

// Encode returns the record's log entry: the RFC 8785 canonical JSON of
//
//	{"channel":…,"data":{…},"principal":…,"state":…,"subject":…,"time":…,"type":…}
//
// with time in TimeFormat. All seven members are always present.
func (r Record) Encode() ([]byte, error) {
	if r.Type == "" {
		return nil, ErrType
	}
	if !validChannel(r.Channel) {
		return nil, fmt.Errorf("%w %q", ErrChannel, r.Channel)
	}
	if !validTime(r.Time) {
		return nil, ErrTime
	}
	for _, s := range []string{r.Type, r.Principal, r.Subject, r.StateHash} {
		if !utf8.ValidString(s) {
			return nil, ErrUTF8
		}
	}
	data, err := normalize(r.Data, 0)
	if err != nil {
		return nil, err
	}
	if data == nil {
		data = map[string]any{}
	}
	obj := map[string]any{
		"type":      r.Type,
		"time":      r.Time.UTC().Format(TimeFormat),
		"principal": r.Principal,
		"channel":   r.Channel,
		"subject":   r.Subject,
		"data":      data,
		"state":     r.StateHash,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return nil, fmt.Errorf("ledger: encode record: %w", err)
	}
	out, err := jcs.Transform(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("ledger: canonicalize record: %w", err)
	}
	if len(out) > MaxRecordSize {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, len(out))
	}
	return out, nil
}

const maxDepth = 32

// normalize checks v and returns it with every integer as a json.Number,
// so that encoding/json writes it exactly.
func normalize(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrDataType, maxDepth)
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if !utf8.ValidString(x) {
			return nil, ErrUTF8
		}
		return x, nil
	case bool:
		return x, nil
	case float32, float64:
		return nil, ErrFloat
	case json.Number:
		i, err := parseInt(string(x))
		if err != nil {
			return nil, err
		}
		return json.Number(strconv.FormatInt(i, 10)), nil
	case map[string]any:
		if x == nil {
			return nil, nil
		}
		m := make(map[string]any, len(x))
		for k, e := range x {
			if !utf8.ValidString(k) {
				return nil, ErrUTF8
			}
			n, err := normalize(e, depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = n
		}
		return m, nil
	case []any:
		if x == nil {
			return nil, nil
		}
		s := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e, depth+1)
			if err != nil {
				return nil, err
			}
			s[i] = n
		}
		return s, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i := rv.Int()
		if i > maxSafeInt || i < -maxSafeInt {
			return nil, ErrIntRange
		}
		return json.Number(strconv.FormatInt(i, 10)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > maxSafeInt {
			return nil, ErrIntRange
		}
		return json.Number(strconv.FormatUint(u, 10)), nil
	case reflect.Float32, reflect.Float64:
		return nil, ErrFloat
	case reflect.String:
		return normalize(rv.String(), depth)
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil, nil
		}
		s := make([]any, rv.Len())
		for i := range s {
			n, err := normalize(rv.Index(i).Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			s[i] = n
		}
		return s, nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("%w: map key %s", ErrDataType, rv.Type().Key())
		}
		if rv.IsNil() {
			return nil, nil
		}
		m := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			k := it.Key().String()
			if !utf8.ValidString(k) {
				return nil, ErrUTF8
			}
			n, err := normalize(it.Value().Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = n
		}
		return m, nil
	}
	return nil, fmt.Errorf("%w: %T", ErrDataType, v)
}

// parseInt parses a JSON number that must be an integer in the safe range.
func parseInt(s string) (int64, error) {
	if strings.ContainsAny(s, ".eE") {
		return 0, ErrFloat
	}
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, ErrIntRange
		}
		return 0, fmt.Errorf("%w: number %q", ErrMalformed, s)
	}
	if i > maxSafeInt || i < -maxSafeInt {
		return 0, ErrIntRange
	}
	return i, nil
}

// ParseRecord parses a log entry. It refuses bytes that are not exactly
// what Encode would write: not canonical (ErrNotCanon), members missing or
// unknown, a float (ErrFloat), an unknown channel, a time not in
// TimeFormat, or more than MaxRecordSize bytes.
func ParseRecord(b []byte) (Record, error) {
	if len(b) > MaxRecordSize {
		return Record{}, ErrTooLarge
	}
	canon, err := jcs.Transform(b)
	if err != nil {
		return Record{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !bytes.Equal(canon, b) {
		return Record{}, ErrNotCanon
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return Record{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if raw == nil || len(raw) != 7 {
		return Record{}, fmt.Errorf("%w: want exactly the members type, time, principal, channel, subject, data, state", ErrMalformed)
	}
	str := func(k string) (string, error) {
		s, ok := raw[k].(string)
		if !ok {
			return "", fmt.Errorf("%w: %q is not a string", ErrMalformed, k)
		}
		return s, nil
	}
	var r Record
	var ts string
	for _, f := range []struct {
		k string
		p *string
	}{{"type", &r.Type}, {"time", &ts}, {"principal", &r.Principal}, {"channel", &r.Channel}, {"subject", &r.Subject}, {"state", &r.StateHash}} {
		if *f.p, err = str(f.k); err != nil {
			return Record{}, err
		}
	}
	if r.Type == "" {
		return Record{}, ErrType
	}
	if !validChannel(r.Channel) {
		return Record{}, fmt.Errorf("%w %q", ErrChannel, r.Channel)
	}
	r.Time, err = time.Parse(TimeFormat, ts)
	if err != nil || r.Time.Format(TimeFormat) != ts || !validTime(r.Time) {
		return Record{}, fmt.Errorf("%w: %q", ErrTime, ts)
	}
	data, ok := raw["data"].(map[string]any)
	if !ok {
		return Record{}, fmt.Errorf("%w: \"data\" is not an object", ErrMalformed)
	}
	d, err := fromJSON(data, 0)
	if err != nil {
		return Record{}, err
	}
	r.Data = d.(map[string]any)
	return r, nil
}

// fromJSON turns json.Numbers into int64, refusing floats.
func fromJSON(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrDataType, maxDepth)
	}
	switch x := v.(type) {
	case json.Number:
		return parseInt(string(x))
	case map[string]any:
		for k, e := range x {
			n, err := fromJSON(e, depth+1)
			if err != nil {
				return nil, err
			}
			x[k] = n
		}
		return x, nil
	case []any:
		for i, e := range x {
			n, err := fromJSON(e, depth+1)
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
		return x, nil
	}
	return v, nil
}

// HashText returns "sha256:" and the lowercase hex SHA-256 of s: how a
// long text (a proposal's body, a comment) goes into a record.
func HashText(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}
