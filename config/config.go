package config

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pelletier/go-toml/v2"

	"github.com/coopfed/coopfed/coop"
)

// The modes a node runs in.
const (
	// ModeProduction serves the public over https://server.host.
	ModeProduction = "production"
	// ModeDevelopment runs several nodes on one machine over plain HTTP,
	// with peers mapped to loopback addresses by Dev.Hosts.
	ModeDevelopment = "development"
)

// Limits on the federation settings.
const (
	MinBodyBytes = 1024
	MaxBodyBytes = 64 << 20
	MinDateSkew  = time.Minute
	MaxDateSkew  = 24 * time.Hour
)

// Config is a node's configuration. Its fields mirror the keys of
// config.example.toml; the tags are the file's key names.
type Config struct {
	Mode       string     `toml:"mode"`
	Server     Server     `toml:"server"`
	Coop       Coop       `toml:"coop"`
	Database   Database   `toml:"database"`
	Log        Log        `toml:"log"`
	Federation Federation `toml:"federation"`
	Witness    Witness    `toml:"witness"`
	Metrics    Metrics    `toml:"metrics"`
	Proposals  Proposals  `toml:"proposals"`
	Dev        Dev        `toml:"dev"`

	// Dir is the absolute path of the folder holding the config file,
	// set by Load. Relative paths in the file are resolved against it, so
	// a node finds its files whatever its working directory.
	Dir string `toml:"-"`
}

// Server is the [server] section: where the node is reached and listens.
type Server struct {
	Host            string   `toml:"host"`
	Listen          string   `toml:"listen"`
	TLSCertFile     string   `toml:"tls_cert_file"`
	TLSKeyFile      string   `toml:"tls_key_file"`
	ShutdownTimeout Duration `toml:"shutdown_timeout"`
	// TrustedProxies are the reverse proxies, as CIDR prefixes, whose
	// X-Forwarded-For header is believed when finding a client's address.
	TrustedProxies []string `toml:"trusted_proxies"`
}

// Coop is the [coop] section: the co-op's own actor.
type Coop struct {
	Handle  string `toml:"handle"`
	Name    string `toml:"name"`
	Summary string `toml:"summary"`
}

// Database is the [database] section.
type Database struct {
	Path string `toml:"path"`
}

// Log is the [log] section.
type Log struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
}

// Federation is the [federation] section: limits on what other servers send.
type Federation struct {
	MaxBodyBytes int64    `toml:"max_body_bytes"`
	DateSkew     Duration `toml:"date_skew"`
	// RatePerIP and BurstPerIP limit the federation requests of one client
	// address, per second, before anything else is done with them.
	RatePerIP  int64 `toml:"rate_per_ip"`
	BurstPerIP int64 `toml:"burst_per_ip"`
	// RatePerHost and BurstPerHost limit the inbox POSTs signed by the
	// keys of one host, per second, once the signature is verified.
	RatePerHost  int64 `toml:"rate_per_host"`
	BurstPerHost int64 `toml:"burst_per_host"`
}

// Witness is the [witness] section: witnessing of decision logs among the
// federation's members.
type Witness struct {
	// Interval is how often the node signs its log's new size, sends it
	// to its members' witnesses and checks theirs (and at once after an
	// append made by the running node).
	Interval Duration `toml:"interval"`
}

// Proposals is the [proposals] section: what goes out about proposals.
type Proposals struct {
	// CountsEvery is the least time between two Update{Question} of a
	// proposal's live counts (Mastodon waits three minutes after a vote;
	// GoToSocial sends one per vote).
	CountsEvery Duration `toml:"counts_every"`
}

// Limits on proposals.counts_every.
const (
	MinCountsEvery = time.Second
	MaxCountsEvery = time.Hour
)

// Metrics is the [metrics] section: Prometheus metrics on their own
// listener, off the public one.
type Metrics struct {
	// Listen is the host:port of the metrics listener; empty turns it off.
	Listen string `toml:"listen"`
}

// Limits on the witness interval.
const (
	MinWitnessInterval = time.Second
	MaxWitnessInterval = 24 * time.Hour
)

// Limits on the rate settings.
const (
	MaxRate  = 100_000
	MaxBurst = 1_000_000
)

// TrustedProxyPrefixes is Server.TrustedProxies parsed; an entry that
// does not parse (Validate refuses it) is left out.
func (s Server) TrustedProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, t := range s.TrustedProxies {
		if p, err := parsePrefix(t); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// parsePrefix parses a CIDR prefix, or a single address as a prefix of
// its full length. A prefix with bits set beyond its length
// ("10.1.2.3/8") is refused: it is likely a mistake.
func parsePrefix(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p != p.Masked() {
		return netip.Prefix{}, fmt.Errorf("%s has bits set beyond its length: write %s", s, p.Masked())
	}
	return p, nil
}

// Dev is the [dev] section, allowed only in development mode.
type Dev struct {
	// Hosts maps a peer's host name (server.host of another local node) to
	// the loopback host:port it listens on.
	Hosts map[string]string `toml:"hosts"`
}

// Duration is a time.Duration written in the file as a string such as "30s".
type Duration struct{ time.Duration }

// UnmarshalText parses a duration such as "30s", "5m" or "1h30m".
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("invalid duration %q: write a number and a unit, like \"30s\", \"5m\" or \"1h\"", text)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as time.Duration.String does ("1h0m0s").
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// Default returns the settings a key takes when the file leaves it out: the
// values of config.example.toml, except Server.Host and Coop.Name, which
// say who the node is and have no default.
func Default() *Config {
	return &Config{
		Mode: ModeProduction,
		Server: Server{
			Listen:          "127.0.0.1:8080",
			ShutdownTimeout: Duration{30 * time.Second},
			TrustedProxies:  []string{"127.0.0.0/8", "::1/128"},
		},
		Coop:     Coop{Handle: "coop"},
		Database: Database{Path: "coopfed.db"},
		Log:      Log{Level: "info", Format: "text"},
		Federation: Federation{
			MaxBodyBytes: 1 << 20,
			DateSkew:     Duration{time.Hour},
			RatePerIP:    30,
			BurstPerIP:   60,
			RatePerHost:  50,
			BurstPerHost: 500,
		},
		Witness:   Witness{Interval: Duration{time.Minute}},
		Proposals: Proposals{CountsEvery: Duration{30 * time.Second}},
	}
}

// Development reports whether the node runs in development mode.
func (c *Config) Development() bool { return c.Mode == ModeDevelopment }

// Scheme is the scheme of the node's public URLs: "https" in production,
// even behind a reverse proxy that terminates TLS, and "http" in development.
func (c *Config) Scheme() string {
	if c.Development() {
		return "http"
	}
	return "https"
}

// DatabasePath is Database.Path, resolved against Dir when it is relative.
func (c *Config) DatabasePath() string { return c.resolve(c.Database.Path) }

// TLSCertPath is Server.TLSCertFile, resolved against Dir when it is
// relative; "" when it is not set.
func (c *Config) TLSCertPath() string { return c.resolve(c.Server.TLSCertFile) }

// TLSKeyPath is Server.TLSKeyFile, resolved against Dir when it is relative;
// "" when it is not set.
func (c *Config) TLSKeyPath() string { return c.resolve(c.Server.TLSKeyFile) }

func (c *Config) resolve(path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(c.Dir, path)
}

// SlogLevel is Level as a slog.Level; slog.LevelInfo if it is not one of
// the levels Validate accepts.
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Error is one wrong setting: its dotted key, as written in the file
// ("server.host", `dev.hosts."beta.test"`), and why it is refused.
type Error struct {
	Key    string
	Reason string
}

func (e *Error) Error() string { return e.Key + ": " + e.Reason }

// Load reads the config file at path, strictly: an unknown key is an
// error. A key the file leaves out takes its value from Default. Load sets
// Dir to the file's folder and returns the config only if it is valid.
//
// Errors start with "config PATH" and, when the TOML library knows where
// the problem is, the line and column; a problem with a setting wraps an
// *Error naming its key.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := decode(path, data)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.Dir = filepath.Dir(abs)
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// decode parses data over Default without validating it. name is the file
// name errors start with.
func decode(name string, data []byte) (*Config, error) {
	c := Default()
	err := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields().Decode(c)
	if err == nil {
		return c, nil
	}

	var missing *toml.StrictMissingError
	if errors.As(err, &missing) {
		errs := make([]error, len(missing.Errors))
		for i := range missing.Errors {
			e := &missing.Errors[i]
			line, col := e.Position()
			errs[i] = fmt.Errorf("config %s:%d:%d: %w", name, line, col,
				&Error{Key: keyString(e.Key()), Reason: "unknown key (misspelled, or in the wrong [section]?)"})
		}
		return nil, errors.Join(errs...)
	}

	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		key := de.Key()
		t, ok := settingType(key)
		if !ok {
			return nil, fmt.Errorf("config %s:%d:%d: %s", name, line, col, msg)
		}
		if strings.HasPrefix(msg, "cannot decode TOML ") {
			msg = wantType(t)
		}
		return nil, fmt.Errorf("config %s:%d:%d: %w", name, line, col, &Error{Key: keyString(key), Reason: msg})
	}

	// go-toml hands a number or boolean written for a Duration to
	// UnmarshalText as bare text, and returns the error without its key or
	// line: find the key ourselves.
	if key := badDurationKey(data); key != "" {
		return nil, fmt.Errorf("config %s: %w", name, &Error{Key: key, Reason: wantType(durationType)})
	}
	return nil, fmt.Errorf("config %s: %w", name, err)
}

var durationType = reflect.TypeFor[Duration]()

// settingTypes maps the dotted key of every setting to its Go type.
var settingTypes = func() map[string]reflect.Type {
	m := make(map[string]reflect.Type)
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if name == "" || name == "-" {
				continue
			}
			key := prefix + name
			m[key] = f.Type
			if f.Type.Kind() == reflect.Struct && f.Type != durationType {
				walk(key+".", f.Type)
			}
		}
	}
	walk("", reflect.TypeFor[Config]())
	return m
}()

// settingType returns the Go type of the setting at key, or of the map
// entry when key is inside a map such as dev.hosts.
func settingType(key toml.Key) (reflect.Type, bool) {
	if len(key) == 0 {
		return nil, false
	}
	for n := len(key); n > 0; n-- {
		t, ok := settingTypes[strings.Join(key[:n], ".")]
		if !ok {
			continue
		}
		switch {
		case n == len(key):
			return t, true
		case n == len(key)-1 && t.Kind() == reflect.Map:
			return t.Elem(), true
		}
		return nil, false
	}
	return nil, false
}

// wantType says what a value of type t is written as, for an admin.
func wantType(t reflect.Type) string {
	switch {
	case t == durationType:
		return `must be a duration in quotes, like "30s", "5m" or "1h"`
	case t.Kind() == reflect.String:
		return "must be a string, in quotes"
	case t.Kind() == reflect.Int64:
		return "must be a whole number"
	case t.Kind() == reflect.Map:
		return "must be a table of strings"
	case t.Kind() == reflect.Slice:
		return `must be a list of strings, like ["10.0.0.0/8"]`
	case t.Kind() == reflect.Struct:
		return "must be a section"
	}
	return "has the wrong type"
}

// badDurationKey returns the first Duration setting in data that is not a
// string ParseDuration accepts, or "".
func badDurationKey(data []byte) string {
	var doc map[string]any
	if toml.Unmarshal(data, &doc) != nil {
		return ""
	}
	for _, key := range slices.Sorted(maps.Keys(settingTypes)) {
		if settingTypes[key] != durationType {
			continue
		}
		var v any = doc
		for _, part := range strings.Split(key, ".") {
			m, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = m[part]
		}
		if v == nil {
			continue
		}
		if s, ok := v.(string); !ok {
			return key
		} else if _, err := time.ParseDuration(s); err != nil {
			return key
		}
	}
	return ""
}

// keyString writes key as TOML would, quoting the parts that are not bare
// keys: dev.hosts."beta.test".
func keyString(key toml.Key) string {
	parts := make([]string, len(key))
	for i, p := range key {
		parts[i] = p
		if !bareKey(p) {
			parts[i] = strconv.Quote(p)
		}
	}
	return strings.Join(parts, ".")
}

func bareKey(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Validate returns the first setting that is wrong, as an *Error, or nil.
// It checks the settings in the order of the example file.
func (c *Config) Validate() error {
	bad := func(key, reason string, args ...any) error {
		return &Error{Key: key, Reason: fmt.Sprintf(reason, args...)}
	}

	if c.Mode != ModeProduction && c.Mode != ModeDevelopment {
		return bad("mode", "must be %q or %q, not %q", ModeProduction, ModeDevelopment, c.Mode)
	}

	if r := checkHost(c.Server.Host); r != "" {
		return bad("server.host", "%s", r)
	}
	if r := checkListen(c.Server.Listen); r != "" {
		return bad("server.listen", "%s", r)
	}
	if c.Development() {
		// Development mode relaxes the checks that keep a public node from
		// reaching private addresses: it must not be reachable from outside.
		if r := checkLoopback(c.Server.Listen); r != "" {
			return bad("server.listen", "in development mode must be on loopback: %s", r)
		}
	}
	cert, key := c.Server.TLSCertFile != "", c.Server.TLSKeyFile != ""
	switch {
	case cert && c.Development():
		return bad("server.tls_cert_file", "must be empty in development mode, which serves plain HTTP")
	case key && c.Development():
		return bad("server.tls_key_file", "must be empty in development mode, which serves plain HTTP")
	case cert && !key:
		return bad("server.tls_key_file", "must be set when server.tls_cert_file is: set both to serve HTTPS, or neither behind a reverse proxy")
	case key && !cert:
		return bad("server.tls_cert_file", "must be set when server.tls_key_file is: set both to serve HTTPS, or neither behind a reverse proxy")
	}
	if c.Server.ShutdownTimeout.Duration <= 0 {
		return bad("server.shutdown_timeout", "must be more than zero, not %s", c.Server.ShutdownTimeout)
	}
	for i, t := range c.Server.TrustedProxies {
		if _, err := parsePrefix(t); err != nil {
			return bad(fmt.Sprintf("server.trusted_proxies[%d]", i), "must be an IP address or a CIDR prefix like \"10.0.0.0/8\", not %q: %v", t, err)
		}
	}

	if err := coop.CheckNewHandle(c.Coop.Handle); err != nil {
		return bad("coop.handle", "%v", err)
	}
	if strings.TrimSpace(c.Coop.Name) == "" {
		return bad("coop.name", "must not be empty")
	}
	if strings.ContainsFunc(c.Coop.Name, unicode.IsControl) {
		return bad("coop.name", "must be one line, without control characters")
	}

	if c.Database.Path == "" {
		return bad("database.path", "must not be empty")
	}

	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad("log.level", `must be "debug", "info", "warn" or "error", not %q`, c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return bad("log.format", `must be "text" or "json", not %q`, c.Log.Format)
	}

	if n := c.Federation.MaxBodyBytes; n < MinBodyBytes || n > MaxBodyBytes {
		return bad("federation.max_body_bytes", "must be between %d and %d (64 MiB), not %d", MinBodyBytes, MaxBodyBytes, n)
	}
	if c.Metrics.Listen != "" {
		if r := checkListen(c.Metrics.Listen); r != "" {
			return bad("metrics.listen", "%s", r)
		}
		if c.Metrics.Listen == c.Server.Listen {
			return bad("metrics.listen", "must differ from server.listen (%s)", c.Server.Listen)
		}
	}
	if d := c.Proposals.CountsEvery.Duration; d < MinCountsEvery || d > MaxCountsEvery {
		return bad("proposals.counts_every", "must be between %s and %s, not %s", MinCountsEvery, MaxCountsEvery, d)
	}
	if d := c.Witness.Interval.Duration; d < MinWitnessInterval || d > MaxWitnessInterval {
		return bad("witness.interval", "must be between %s and %s, not %s", MinWitnessInterval, MaxWitnessInterval, d)
	}
	if d := c.Federation.DateSkew.Duration; d < MinDateSkew || d > MaxDateSkew {
		return bad("federation.date_skew", "must be between %s and %s, not %s", MinDateSkew, MaxDateSkew, d)
	}

	rates := []struct {
		key         string
		rate, burst int64
	}{
		{"ip", c.Federation.RatePerIP, c.Federation.BurstPerIP},
		{"host", c.Federation.RatePerHost, c.Federation.BurstPerHost},
	}
	for _, r := range rates {
		if r.rate < 1 || r.rate > MaxRate {
			return bad("federation.rate_per_"+r.key, "must be between 1 and %d requests a second, not %d", MaxRate, r.rate)
		}
		if r.burst < r.rate || r.burst > MaxBurst {
			return bad("federation.burst_per_"+r.key, "must be between federation.rate_per_%s (%d) and %d, not %d", r.key, r.rate, MaxBurst, r.burst)
		}
	}

	if len(c.Dev.Hosts) > 0 && !c.Development() {
		return bad("dev.hosts", "is a development allowance, refused in production mode: remove its entries or set mode = %q", ModeDevelopment)
	}
	for _, host := range slices.Sorted(maps.Keys(c.Dev.Hosts)) {
		k := keyString(toml.Key{"dev", "hosts", host})
		if r := checkHost(host); r != "" {
			return bad(k, "the peer's host name %s", r)
		}
		if r := checkLoopback(c.Dev.Hosts[host]); r != "" {
			return bad(k, "%s", r)
		}
	}
	return nil
}

// checkHost says why s is not a public host: a lower-case host name or IP
// literal, IPv6 in brackets, with an optional port. It returns "" if s is
// fine.
func checkHost(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case strings.Contains(s, "://"):
		return fmt.Sprintf("must be a host name without a scheme, not %q", s)
	case strings.ContainsAny(s, "/?#@ "):
		return fmt.Sprintf("must be a host name and optional port, with no path, not %q", s)
	case s != strings.ToLower(s):
		return fmt.Sprintf("must be lower case: %q", strings.ToLower(s))
	}
	host := s
	switch {
	case strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]"):
		host = s[1 : len(s)-1]
		if !isIPv6(host) {
			return fmt.Sprintf("only an IPv6 address goes in brackets, not %q", s)
		}
		return ""
	case strings.Contains(s, ":"):
		h, port, err := net.SplitHostPort(s)
		if err != nil {
			if isIPv6(s) {
				return fmt.Sprintf("must put an IPv6 address in brackets: %q", "["+s+"]")
			}
			return fmt.Sprintf("must be host or host:port, not %q", s)
		}
		if r := checkPort(port); r != "" {
			return r
		}
		if h == "" {
			return fmt.Sprintf("must have a host name before the port, not %q", s)
		}
		if strings.HasPrefix(s, "[") {
			if !isIPv6(h) {
				return fmt.Sprintf("only an IPv6 address goes in brackets, not %q", s)
			}
			return ""
		}
		host = h
	}
	if r := checkHostName(host); r != "" {
		return r
	}
	return ""
}

// checkHostName says why host is neither an IPv4 address nor a host name of
// dot-separated labels of letters, digits and '-'.
func checkHostName(host string) string {
	if a, err := netip.ParseAddr(host); err == nil && a.Is4() {
		return ""
	}
	if len(host) > 253 {
		return "must be a host name of at most 253 characters"
	}
	labels := strings.Split(host, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Sprintf("must be a valid host name, not %q: each dot-separated part is 1 to 63 letters, digits or '-', not starting or ending with '-'", host)
		}
		for _, c := range []byte(l) {
			if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return fmt.Sprintf("must be a valid host name, not %q: %q is not allowed", host, c)
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return fmt.Sprintf("must be a valid host name or IP address, not %q", host)
	}
	return ""
}

func isIPv6(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6() && a.Zone() == ""
}

// checkPort says why port is not a decimal port from 1 to 65535.
func checkPort(port string) string {
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strings.Trim(port, "0123456789") != "" {
		return fmt.Sprintf("must have a port from 1 to 65535, not %q", port)
	}
	return ""
}

// checkListen says why s is not an address to listen on: host:port, where
// host may be empty (every interface), an IP address or a host name.
func checkListen(s string) string {
	if s == "" {
		return "must not be empty"
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf("must be host:port, like \"127.0.0.1:8080\" or \":443\", not %q", s)
	}
	if r := checkPort(port); r != "" {
		return r
	}
	if host == "" {
		return ""
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return ""
	}
	return checkHostName(host)
}

// checkLoopback says why s is not a loopback host:port: 127.0.0.0/8, ::1
// or localhost.
func checkLoopback(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf("must be a loopback host:port, like \"127.0.0.1:8082\", not %q", s)
	}
	if r := checkPort(port); r != "" {
		return r
	}
	if host == "localhost" {
		return ""
	}
	if a, err := netip.ParseAddr(host); err == nil && a.IsLoopback() && a.Zone() == "" {
		return ""
	}
	return fmt.Sprintf("must be a loopback address (127.0.0.0/8, [::1] or localhost), not %q", s)
}
