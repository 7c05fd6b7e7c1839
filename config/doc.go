// Package config owns coopfed's configuration file: the TOML format of
// config.example.toml, its defaults, and the rules a config must pass before
// a node starts.
//
// Load reads a file strictly: an unknown or misspelled key is refused and
// named, a missing key takes its default, and every error names the file,
// the key, the line when the TOML library knows it, and the reason. Validate
// returns the first problem as an *Error carrying the key. Render and
// WriteNew write a new config for `coopfed init` and `coopfed dev` from the
// commented example, keeping its comments.
//
// config does no I/O beyond reading and writing the config file itself; it
// does not check that TLS files exist or that the listen address is free.
// It imports coop only for the rule on handles. It must not import
// federation, store or handlers: they receive a *Config, or plain values
// taken from it, from cmd/coopfed.
package config
