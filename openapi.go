// Package atendimento holds the files of the repository root that the binary embeds: the
// OpenAPI contract served at /openapi.yaml.
package atendimento

import _ "embed"

// OpenAPI is the contract, generated from the handlers' annotations by `make docs`.
//
//go:embed openapi.yaml
var OpenAPI []byte
