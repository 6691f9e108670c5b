// Package dynamic makes a code cmd/errcodes cannot follow.
package dynamic

import (
	"strings"

	"github.com/atendimento/atendimento/internal/apperr"
)

func Check(s string) error {
	return apperr.New(apperr.KindInvalid, strings.ToLower(s), "m")
}
