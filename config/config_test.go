package config

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coopfed/coopfed"
)

// writeConfig writes text to coopfed.toml in a new folder and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "coopfed.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// example decodes the embedded example without validating it.
func example(t *testing.T) *Config {
	t.Helper()
	c, err := decode("config.example.toml", coopfed.ExampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestExampleIsEmbedded(t *testing.T) {
	onDisk, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, coopfed.ExampleConfig) {
		t.Error("coopfed.ExampleConfig differs from ../config.example.toml")
	}
}

func TestExampleLoads(t *testing.T) {
	path := writeConfig(t, string(coopfed.ExampleConfig))
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != ModeProduction || c.Development() || c.Scheme() != "https" {
		t.Errorf("mode %q, Development %v, Scheme %q; want production, https", c.Mode, c.Development(), c.Scheme())
	}
	if c.Dir != filepath.Dir(path) {
		t.Errorf("Dir = %q, want %q", c.Dir, filepath.Dir(path))
	}
	if len(c.Dev.Hosts) != 0 {
		t.Errorf("Dev.Hosts = %v, want none", c.Dev.Hosts)
	}
}

// TestExampleShowsDefaults checks that the example shows the value every
// missing key takes, so an admin can trust its comments.
func TestExampleShowsDefaults(t *testing.T) {
	got := example(t)
	want := Default()
	want.Server.Host = "coop.example"
	want.Coop.Name = "Example Co-op"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("example differs from Default (-default +example):\n%s", diff)
	}
}

func TestMissingKeysTakeDefaults(t *testing.T) {
	c, err := Load(writeConfig(t, "[server]\nhost = \"a.example\"\n[coop]\nname = \"A\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Server.Host = "a.example"
	want.Coop.Name = "A"
	want.Dir = c.Dir
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestValidate(t *testing.T) {
	dev := func(c *Config) { c.Mode = ModeDevelopment }
	tests := []struct {
		name   string
		change func(*Config)
		key    string // "" when the config is valid
	}{
		{"example is valid", func(*Config) {}, ""},
		{"development mode is valid", dev, ""},
		{"mode is production or development", func(c *Config) { c.Mode = "staging" }, "mode"},
		{"mode is not empty", func(c *Config) { c.Mode = "" }, "mode"},

		{"host must not be empty", func(c *Config) { c.Server.Host = "" }, "server.host"},
		{"host must be lower case", func(c *Config) { c.Server.Host = "Coop.Example" }, "server.host"},
		{"host has no scheme", func(c *Config) { c.Server.Host = "https://coop.example" }, "server.host"},
		{"host has no path", func(c *Config) { c.Server.Host = "coop.example/fed" }, "server.host"},
		{"host has no user", func(c *Config) { c.Server.Host = "me@coop.example" }, "server.host"},
		{"host labels are not empty", func(c *Config) { c.Server.Host = "coop..example" }, "server.host"},
		{"host labels do not start with a hyphen", func(c *Config) { c.Server.Host = "-coop.example" }, "server.host"},
		{"host has no underscore", func(c *Config) { c.Server.Host = "co_op.example" }, "server.host"},
		{"host has no trailing dot", func(c *Config) { c.Server.Host = "coop.example." }, "server.host"},
		{"host is not a bad IPv4 address", func(c *Config) { c.Server.Host = "192.0.2.300" }, "server.host"},
		{"host port is a number", func(c *Config) { c.Server.Host = "coop.example:https" }, "server.host"},
		{"host port is at most 65535", func(c *Config) { c.Server.Host = "coop.example:65536" }, "server.host"},
		{"host port is not zero", func(c *Config) { c.Server.Host = "coop.example:0" }, "server.host"},
		{"host port is not empty", func(c *Config) { c.Server.Host = "coop.example:" }, "server.host"},
		{"host has a name before its port", func(c *Config) { c.Server.Host = ":8443" }, "server.host"},
		{"host IPv6 goes in brackets", func(c *Config) { c.Server.Host = "2001:db8::1" }, "server.host"},
		{"host brackets hold only IPv6", func(c *Config) { c.Server.Host = "[coop.example]:8443" }, "server.host"},
		{"host brackets hold only IPv6 without port", func(c *Config) { c.Server.Host = "[192.0.2.1]" }, "server.host"},
		{"host with port is valid", func(c *Config) { c.Server.Host = "coop.example:8443" }, ""},
		{"host IPv4 is valid", func(c *Config) { c.Server.Host = "192.0.2.1" }, ""},
		{"host IPv6 with port is valid", func(c *Config) { c.Server.Host = "[2001:db8::1]:8443" }, ""},
		{"host IPv6 without port is valid", func(c *Config) { c.Server.Host = "[2001:db8::1]" }, ""},
		{"host localhost with port is valid", func(c *Config) { c.Server.Host = "localhost:8081" }, ""},

		{"listen must not be empty", func(c *Config) { c.Server.Listen = "" }, "server.listen"},
		{"listen has a port", func(c *Config) { c.Server.Listen = "127.0.0.1" }, "server.listen"},
		{"listen port is not zero", func(c *Config) { c.Server.Listen = "127.0.0.1:0" }, "server.listen"},
		{"listen port is a number", func(c *Config) { c.Server.Listen = "127.0.0.1:http" }, "server.listen"},
		{"listen host is a host", func(c *Config) { c.Server.Listen = "bad_host:80" }, "server.listen"},
		{"development listens on loopback only", func(c *Config) { c.Mode = ModeDevelopment; c.Server.Listen = ":8080" }, "server.listen"},
		{"listen on every interface is valid", func(c *Config) { c.Server.Listen = ":443" }, ""},
		{"listen on IPv6 is valid", func(c *Config) { c.Server.Listen = "[::1]:8080" }, ""},
		{"listen on localhost is valid", func(c *Config) { c.Server.Listen = "localhost:8080" }, ""},

		{"tls cert needs a key", func(c *Config) { c.Server.TLSCertFile = "cert.pem" }, "server.tls_key_file"},
		{"tls key needs a cert", func(c *Config) { c.Server.TLSKeyFile = "key.pem" }, "server.tls_cert_file"},
		{"tls both set is valid in production", func(c *Config) {
			c.Server.TLSCertFile, c.Server.TLSKeyFile = "cert.pem", "key.pem"
		}, ""},
		{"tls is refused in development", func(c *Config) {
			dev(c)
			c.Server.TLSCertFile, c.Server.TLSKeyFile = "cert.pem", "key.pem"
		}, "server.tls_cert_file"},
		{"tls key alone is refused in development", func(c *Config) {
			dev(c)
			c.Server.TLSKeyFile = "key.pem"
		}, "server.tls_key_file"},

		{"shutdown timeout is not zero", func(c *Config) { c.Server.ShutdownTimeout.Duration = 0 }, "server.shutdown_timeout"},
		{"shutdown timeout is not negative", func(c *Config) { c.Server.ShutdownTimeout.Duration = -time.Second }, "server.shutdown_timeout"},

		{"handle must not be empty", func(c *Config) { c.Coop.Handle = "" }, "coop.handle"},
		{"handle is at most 30 characters", func(c *Config) { c.Coop.Handle = strings.Repeat("a", 31) }, "coop.handle"},
		{"handle of 30 characters is valid", func(c *Config) { c.Coop.Handle = strings.Repeat("a", 30) }, ""},
		{"handle has no space", func(c *Config) { c.Coop.Handle = "co op" }, "coop.handle"},
		{"handle does not start with a hyphen", func(c *Config) { c.Coop.Handle = "-coop" }, "coop.handle"},
		{"handle does not end with a dot", func(c *Config) { c.Coop.Handle = "coop." }, "coop.handle"},
		{"handle is not reserved", func(c *Config) { c.Coop.Handle = "admin" }, "coop.handle"},
		{"handle with hyphen and dot inside is valid", func(c *Config) { c.Coop.Handle = "les-amis.coop_1" }, ""},

		{"name must not be empty", func(c *Config) { c.Coop.Name = "" }, "coop.name"},
		{"name must not be blank", func(c *Config) { c.Coop.Name = "  \t" }, "coop.name"},
		{"name is one line", func(c *Config) { c.Coop.Name = "Les\nAmis" }, "coop.name"},
		{"database path must not be empty", func(c *Config) { c.Database.Path = "" }, "database.path"},

		{"log level is known", func(c *Config) { c.Log.Level = "verbose" }, "log.level"},
		{"log level is lower case", func(c *Config) { c.Log.Level = "INFO" }, "log.level"},
		{"log format is text or json", func(c *Config) { c.Log.Format = "xml" }, "log.format"},
		{"log json is valid", func(c *Config) { c.Log.Level, c.Log.Format = "debug", "json" }, ""},

		{"max body is at least 1024", func(c *Config) { c.Federation.MaxBodyBytes = 1023 }, "federation.max_body_bytes"},
		{"max body is at most 64 MiB", func(c *Config) { c.Federation.MaxBodyBytes = 64<<20 + 1 }, "federation.max_body_bytes"},
		{"max body of 1024 is valid", func(c *Config) { c.Federation.MaxBodyBytes = 1024 }, ""},
		{"max body of 64 MiB is valid", func(c *Config) { c.Federation.MaxBodyBytes = 64 << 20 }, ""},
		{"date skew is at least 1m", func(c *Config) { c.Federation.DateSkew.Duration = 59 * time.Second }, "federation.date_skew"},
		{"date skew is at most 24h", func(c *Config) { c.Federation.DateSkew.Duration = 24*time.Hour + 1 }, "federation.date_skew"},
		{"rate per ip is at least 1", func(c *Config) { c.Federation.RatePerIP = 0 }, "federation.rate_per_ip"},
		{"rate per ip is at most MaxRate", func(c *Config) { c.Federation.RatePerIP = MaxRate + 1 }, "federation.rate_per_ip"},
		{"burst per ip is at least the rate", func(c *Config) { c.Federation.BurstPerIP = c.Federation.RatePerIP - 1 }, "federation.burst_per_ip"},
		{"burst per ip is at most MaxBurst", func(c *Config) { c.Federation.BurstPerIP = MaxBurst + 1 }, "federation.burst_per_ip"},
		{"rate per host is at least 1", func(c *Config) { c.Federation.RatePerHost = -5 }, "federation.rate_per_host"},
		{"burst per host is at least the rate", func(c *Config) { c.Federation.BurstPerHost = 1 }, "federation.burst_per_host"},
		{"a trusted proxy is a prefix", func(c *Config) { c.Server.TrustedProxies = []string{"10.0.0.0/8", "proxy.example"} }, "server.trusted_proxies[1]"},
		{"a trusted proxy has no bits beyond its length", func(c *Config) { c.Server.TrustedProxies = []string{"10.1.2.3/8"} }, "server.trusted_proxies[0]"},
		{"a trusted proxy may be one address", func(c *Config) { c.Server.TrustedProxies = []string{"192.0.2.7", "2001:db8::/32"} }, ""},
		{"no trusted proxies is valid", func(c *Config) { c.Server.TrustedProxies = nil }, ""},
		{"date skew of 1m is valid", func(c *Config) { c.Federation.DateSkew.Duration = time.Minute }, ""},
		{"date skew of 24h is valid", func(c *Config) { c.Federation.DateSkew.Duration = 24 * time.Hour }, ""},

		{"dev hosts are refused in production", func(c *Config) {
			c.Dev.Hosts = map[string]string{"beta.test": "127.0.0.1:8082"}
		}, "dev.hosts"},
		{"empty dev hosts are valid in production", func(c *Config) { c.Dev.Hosts = map[string]string{} }, ""},
		{"dev hosts map to loopback in development", func(c *Config) {
			dev(c)
			c.Dev.Hosts = map[string]string{
				"beta.test":       "127.0.0.1:8082",
				"gamma.test:8083": "127.8.9.10:8083",
				"delta.test":      "[::1]:8084",
				"epsilon.test":    "localhost:8085",
			}
		}, ""},
		{"dev host names are lower case", func(c *Config) {
			dev(c)
			c.Dev.Hosts = map[string]string{"Beta.test": "127.0.0.1:8082"}
		}, `dev.hosts."Beta.test"`},
		{"dev host names have no scheme", func(c *Config) {
			dev(c)
			c.Dev.Hosts = map[string]string{"http://beta.test": "127.0.0.1:8082"}
		}, `dev.hosts."http://beta.test"`},
		{"dev host addresses are loopback", func(c *Config) {
			dev(c)
			c.Dev.Hosts = map[string]string{"beta.test": "10.0.0.2:8082"}
		}, `dev.hosts."beta.test"`},
		{"dev host addresses are not names other than localhost", func(c *Config) {
			dev(c)
			c.Dev.Hosts = map[string]string{"beta.test": "beta.test:8082"}
		}, `dev.hosts."beta.test"`},
		{"dev host addresses have a port", func(c *Config) {
			dev(c)
			c.Dev.Hosts = map[string]string{"beta.test": "127.0.0.1"}
		}, `dev.hosts."beta.test"`},
		{"dev host address ports are numbers", func(c *Config) {
			dev(c)
			c.Dev.Hosts = map[string]string{"beta.test": "127.0.0.1:99999"}
		}, `dev.hosts."beta.test"`},
		{"dev host first in order is reported", func(c *Config) {
			dev(c)
			c.Dev.Hosts = map[string]string{"b.test": "10.0.0.1:1", "a.test": "10.0.0.1:1"}
		}, `dev.hosts."a.test"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := example(t)
			tt.change(c)
			err := c.Validate()
			if tt.key == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Validate() = %v, want an *Error for %s", err, tt.key)
			}
			if e.Key != tt.key {
				t.Errorf("Validate() = %v, want key %s", err, tt.key)
			}
			if e.Reason == "" || err.Error() != e.Key+": "+e.Reason {
				t.Errorf("Error() = %q, want KEY: REASON", err)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	const valid = "[server]\nhost = \"a.example\"\n[coop]\nname = \"A\"\n"
	tests := []struct {
		name string
		text string
		key  string   // the *Error's key; "" if none is expected
		want []string // in the message, after "config PATH"
	}{
		{"unknown key is named with its line", "[server]\nhost = \"a.example\"\nhots = \"x\"\n[coop]\nname = \"A\"\n",
			"server.hots", []string{":3:1: server.hots: unknown key"}},
		{"unknown section is named", valid + "[sever]\nhost = \"b\"\n",
			"sever", []string{":5:", "sever: unknown key"}},
		{"every unknown key is named", valid + "[log]\nlevl = \"x\"\nformt = \"y\"\n",
			"log.levl", []string{":6:1: log.levl: unknown key", ":7:1: log.formt: unknown key"}},
		{"top-level key after a section is unknown", valid + "mode = \"development\"\n",
			"coop.mode", []string{":5:1: coop.mode: unknown key"}},
		{"malformed TOML gives its line", "[server]\nhost = \"a.example\nlisten = \":80\"\n",
			"", []string{":2:"}},
		{"duplicate key gives its line", valid + "[coop]\nname = \"B\"\n",
			"", []string{":5:"}},
		{"string setting refuses a number", "[server]\nhost = 5\n",
			"server.host", []string{":2:8: server.host: must be a string"}},
		{"number setting refuses a string", valid + "[federation]\nmax_body_bytes = \"1MB\"\n",
			"federation.max_body_bytes", []string{":6:", "federation.max_body_bytes: must be a whole number"}},
		{"section refuses a value", "server = \"a.example\"\n",
			"server", []string{":1:", "server: must be a section"}},
		{"duration refuses a bad string", valid + "[federation]\ndate_skew = \"1 hour\"\n",
			"federation.date_skew", []string{":6:", `federation.date_skew: invalid duration "1 hour"`}},
		{"duration refuses a number", valid + "[federation]\ndate_skew = 3600\n",
			"federation.date_skew", []string{"federation.date_skew: must be a duration in quotes"}},
		{"duration refuses a boolean", "[server]\nhost = \"a.example\"\nshutdown_timeout = true\n[coop]\nname = \"A\"\n",
			"server.shutdown_timeout", []string{"server.shutdown_timeout: must be a duration in quotes"}},
		{"duration refuses a float", "[server]\nhost = \"a.example\"\nshutdown_timeout = 1.5\n[coop]\nname = \"A\"\n",
			"server.shutdown_timeout", []string{"server.shutdown_timeout: must be a duration in quotes"}},
		{"dev host refuses a number", "mode = \"development\"\n" + valid + "[dev.hosts]\n\"b.test\" = 8082\n",
			`dev.hosts."b.test"`, []string{":7:", `dev.hosts."b.test": must be a string`}},
		{"invalid setting names file and key", "[server]\nhost = \"\"\n[coop]\nname = \"A\"\n",
			"server.host", []string{": server.host: must not be empty"}},
		{"a list setting refuses a string", "[server]\nhost = \"a.example\"\ntrusted_proxies = \"10.0.0.0/8\"\n[coop]\nname = \"A\"\n",
			"server.trusted_proxies", []string{":3:", "server.trusted_proxies: must be a list of strings"}},
		{"a rate refuses a fraction", valid + "[federation]\nrate_per_ip = 2.5\n",
			"federation.rate_per_ip", []string{":6:", "federation.rate_per_ip: must be a whole number"}},
		{"dev hosts refused in production", valid + "[dev.hosts]\n\"b.test\" = \"127.0.0.1:8082\"\n",
			"dev.hosts", []string{": dev.hosts: is a development allowance"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.text)
			c, err := Load(path)
			if err == nil {
				t.Fatalf("Load() = %+v, want an error", c)
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.HasPrefix(msg, "config "+path) {
				t.Errorf("error %q does not start with %q", msg, "config "+path)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			var e *Error
			switch {
			case tt.key == "":
			case !errors.As(err, &e):
				t.Errorf("error %q is not an *Error", msg)
			case e.Key != tt.key:
				t.Errorf("error key %q, want %q", e.Key, tt.key)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.toml")
	_, err := Load(path)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("Load() = %v, want fs.ErrNotExist naming %s", err, path)
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		text string
		want time.Duration
		ok   bool
	}{
		{"30s", 30 * time.Second, true},
		{"1h30m", 90 * time.Minute, true},
		{"1.5h", 90 * time.Minute, true},
		{"500ms", 500 * time.Millisecond, true},
		{"0s", 0, true},
		{"30", 0, false},
		{"", 0, false},
		{"1 hour", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			var d Duration
			err := d.UnmarshalText([]byte(tt.text))
			if (err == nil) != tt.ok {
				t.Fatalf("UnmarshalText(%q) = %v, want ok %v", tt.text, err, tt.ok)
			}
			if d.Duration != tt.want {
				t.Errorf("UnmarshalText(%q) = %s, want %s", tt.text, d, tt.want)
			}
			if !tt.ok {
				return
			}
			text, err := d.MarshalText()
			if err != nil {
				t.Fatal(err)
			}
			var back Duration
			if err := back.UnmarshalText(text); err != nil || back != d {
				t.Errorf("MarshalText round trip: %q gives %s, %v", text, back, err)
			}
		})
	}
}

func TestDurationsInFile(t *testing.T) {
	c, err := Load(writeConfig(t, "[server]\nhost = \"a.example\"\nshutdown_timeout = \"1m30s\"\n[coop]\nname = \"A\"\n[federation]\ndate_skew = '2h'\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.ShutdownTimeout.Duration != 90*time.Second || c.Federation.DateSkew.Duration != 2*time.Hour {
		t.Errorf("shutdown_timeout %s, date_skew %s; want 1m30s, 2h", c.Server.ShutdownTimeout, c.Federation.DateSkew)
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name   string
		values Values
	}{
		{"plain values", Values{Host: "les-amis.example", CoopHandle: "amis", CoopName: "Les Amis"}},
		{"quotes backslashes and unicode", Values{Host: "amis.example", CoopName: "Coop \"Les Amis\" \\ é"}},
		{"single and double quotes", Values{CoopName: `L'Atelier "du" Coin`}},
		{"unicode beyond Latin", Values{CoopName: "Ünïcödé\u00a0☕ 協同組合 \U0001F91D"}},
		{"comment sign and brackets", Values{CoopName: "Co-op # [server] = x", DatabasePath: "/var/lib/coop fed/#1.db"}},
		{"windows path", Values{DatabasePath: `C:\coopfed\data.db`}},
		{"development node", Values{
			Mode: ModeDevelopment, Host: "alpha.test:8081", Listen: "127.0.0.1:8081",
			CoopHandle: "alpha", CoopName: "Alpha", DatabasePath: "alpha.db",
			DevHosts: map[string]string{"beta.test:8082": "127.0.0.1:8082", "gamma.test": "[::1]:8083"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Render(coopfed.ExampleConfig, tt.values)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Load(writeConfig(t, string(out)))
			if err != nil {
				t.Fatalf("rendered config does not load: %v\n%s", err, out)
			}
			want := example(t)
			set := func(dst *string, v string) {
				if v != "" {
					*dst = v
				}
			}
			set(&want.Mode, tt.values.Mode)
			set(&want.Server.Host, tt.values.Host)
			set(&want.Server.Listen, tt.values.Listen)
			set(&want.Coop.Handle, tt.values.CoopHandle)
			set(&want.Coop.Name, tt.values.CoopName)
			set(&want.Database.Path, tt.values.DatabasePath)
			if tt.values.DevHosts != nil {
				want.Dev.Hosts = tt.values.DevHosts
			}
			want.Dir = c.Dir
			if diff := cmp.Diff(want, c); diff != "" {
				t.Errorf("rendered config (-want +got):\n%s", diff)
			}
			for _, line := range []string{
				"# coopfed configuration.",
				"# The co-op's display name, shown on its pages and its profile.",
				`# "beta.test" = "127.0.0.1:8082"`,
				"[dev.hosts]",
			} {
				if !bytes.Contains(out, []byte("\n"+line+"\n")) && !bytes.HasPrefix(out, []byte(line+"\n")) {
					t.Errorf("rendered config lost the line %q", line)
				}
			}
			if got, want := bytes.Count(out, []byte("\n")), bytes.Count(coopfed.ExampleConfig, []byte("\n"))+len(tt.values.DevHosts); got != want {
				t.Errorf("rendered config has %d lines, want %d", got, want)
			}
		})
	}
}

func TestRenderNothingKeepsExample(t *testing.T) {
	out, err := Render(coopfed.ExampleConfig, Values{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, coopfed.ExampleConfig) {
		t.Errorf("Render with no values changed the example:\n%s", out)
	}
}

func TestRenderKeepsComments(t *testing.T) {
	example := []byte("mode = \"production\"   # or \"development\"\n" +
		"[server]\nhost = \"x.example\" # public host\nlisten = '127.0.0.1:8080'\n" +
		"[coop]\n  handle = \"coop\"\nname = \"X\"\n")
	out, err := Render(example, Values{Mode: ModeDevelopment, Host: "a.example", Listen: "[::1]:9", CoopHandle: "c", CoopName: "Long Name Co-operative"})
	if err != nil {
		t.Fatal(err)
	}
	want := "mode = 'development'  # or \"development\"\n" +
		"[server]\nhost = 'a.example' # public host\nlisten = '[::1]:9'\n" +
		"[coop]\n  handle = 'c'\nname = 'Long Name Co-operative'\n"
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name    string
		example string
		values  Values
		key     string // the *Error's key; "" if none is expected
		want    string
	}{
		{"invalid value is refused by its key", string(coopfed.ExampleConfig), Values{CoopHandle: "admin"}, "coop.handle", "reserved"},
		{"production refuses dev hosts", string(coopfed.ExampleConfig), Values{DevHosts: map[string]string{"b.test": "127.0.0.1:1"}}, "dev.hosts", "development"},
		{"missing key is reported", "mode = \"production\"\n[coop]\nname = \"X\"\n", Values{Host: "a.example"}, "", "no server.host line"},
		{"key in another section is not used", "[coop]\nhost = \"x\"\n", Values{Host: "a.example"}, "", "no server.host line"},
		{"missing dev hosts section is reported", "[coop]\nname = \"X\"\n", Values{DevHosts: map[string]string{"b.test": "127.0.0.1:1"}}, "", "no [dev.hosts]"},
		{"multi-line value is not rewritten", "[coop]\nname = \"\"\"X\"\"\"\n", Values{CoopName: "Y"}, "", "multi-line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Render([]byte(tt.example), tt.values)
			if err == nil {
				t.Fatalf("Render() = %s, want an error", out)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Render() = %v, want it to contain %q", err, tt.want)
			}
			var e *Error
			switch {
			case tt.key == "":
			case !errors.As(err, &e):
				t.Errorf("Render() = %v, not an *Error", err)
			case e.Key != tt.key:
				t.Errorf("Render() key %q, want %q", e.Key, tt.key)
			}
		})
	}
}

func TestPaths(t *testing.T) {
	dir := filepath.Join(string(filepath.Separator), "srv", "coopfed")
	abs := filepath.Join(string(filepath.Separator), "var", "lib", "coopfed.db")
	tests := []struct {
		name, path, want string
	}{
		{"relative path is in the config's folder", "coopfed.db", filepath.Join(dir, "coopfed.db")},
		{"relative path may go down", filepath.Join("data", "coopfed.db"), filepath.Join(dir, "data", "coopfed.db")},
		{"relative path may go up", filepath.Join("..", "coopfed.db"), filepath.Join(string(filepath.Separator), "srv", "coopfed.db")},
		{"absolute path is kept", abs, abs},
		{"empty path stays empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Dir: dir, Database: Database{Path: tt.path}, Server: Server{TLSCertFile: tt.path, TLSKeyFile: tt.path}}
			if got := c.DatabasePath(); got != tt.want {
				t.Errorf("DatabasePath() = %q, want %q", got, tt.want)
			}
			if got := c.TLSCertPath(); got != tt.want {
				t.Errorf("TLSCertPath() = %q, want %q", got, tt.want)
			}
			if got := c.TLSKeyPath(); got != tt.want {
				t.Errorf("TLSKeyPath() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadSetsAbsoluteDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "coopfed.toml"), coopfed.ExampleConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	c, err := Load("coopfed.toml")
	if err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir != wd || !filepath.IsAbs(c.Dir) {
		t.Errorf("Dir = %q, want %q", c.Dir, wd)
	}
	if want := filepath.Join(wd, "coopfed.db"); c.DatabasePath() != want {
		t.Errorf("DatabasePath() = %q, want %q", c.DatabasePath(), want)
	}
}

func TestWriteNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coopfed.toml")
	if err := WriteNew(path, []byte("first")); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode %o, want 600", perm)
	}

	t.Run("an existing file is refused", func(t *testing.T) {
		err := WriteNew(path, []byte("second"))
		if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), path) {
			t.Errorf("WriteNew() = %v, want fs.ErrExist naming the file", err)
		}
		if data, _ := os.ReadFile(path); string(data) != "first" {
			t.Errorf("file holds %q, want it untouched", data)
		}
	})
	t.Run("a missing folder is an error", func(t *testing.T) {
		err := WriteNew(filepath.Join(t.TempDir(), "no", "coopfed.toml"), nil)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("WriteNew() = %v, want fs.ErrNotExist", err)
		}
	})
}

func TestModes(t *testing.T) {
	tests := []struct {
		mode   string
		dev    bool
		scheme string
	}{
		{ModeProduction, false, "https"},
		{ModeDevelopment, true, "http"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			c := &Config{Mode: tt.mode}
			if c.Development() != tt.dev || c.Scheme() != tt.scheme {
				t.Errorf("Development() %v, Scheme() %q; want %v, %q", c.Development(), c.Scheme(), tt.dev, tt.scheme)
			}
		})
	}
}

func TestSlogLevel(t *testing.T) {
	for level, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
	} {
		t.Run(level, func(t *testing.T) {
			if got := (Log{Level: level}).SlogLevel(); got != want {
				t.Errorf("SlogLevel() = %v, want %v", got, want)
			}
		})
	}
}
