// Package coopfed holds what lives at the root of the repository and is
// built into the binary: the example configuration. The server itself is in
// the packages below it and in cmd/coopfed.
package coopfed

import _ "embed"

// ExampleConfig is config.example.toml: every setting, commented, with its
// default. `coopfed init` writes a node's first config from it with
// config.Render, so the comments reach every admin.
//
//go:embed config.example.toml
var ExampleConfig []byte
