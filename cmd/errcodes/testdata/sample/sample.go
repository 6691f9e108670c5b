// Package sample makes error codes every way cmd/errcodes follows.
package sample

import (
	"fmt"

	"github.com/atendimento/atendimento/internal/apperr"
)

const codeConst = "from_a_constant"

var errSentinel = apperr.NotFound("from_not_found", "no such thing")

// statusCodes: a map read by index.
var statusCodes = map[int]string{404: "from_a_map"}

func checks(field string, status int) error {
	var f apperr.Fields
	f.Add("a", codeConst, "m")
	f.Add("b", field+"_suffixed", "m")
	code := "from_a_local"
	if status > 0 {
		code = "from_a_local_branch"
	}
	f.Add("c", code, "m")
	f = append(f, one("d", "from_a_helper"))
	for _, r := range []struct{ field, code string }{{"e", "from_a_struct"}} {
		f.Add(r.field, r.code, "m")
	}
	_ = apperr.Error{Code: statusCodes[status]}
	_ = errSentinel
	_ = apperr.Forbidden("m")
	return fmt.Errorf("%w", f.Err())
}

// one forwards its code parameter.
func one(field, code string) apperr.FieldError {
	return apperr.FieldError{Field: field, Code: code, Message: "m"}
}
