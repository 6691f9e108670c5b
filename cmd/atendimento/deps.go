package main

// Blank imports that keep the modules the service is being built on in go.mod until the code
// that uses them lands.
import (
	_ "github.com/getkin/kin-openapi/openapi3"
	_ "github.com/go-playground/validator/v10"
	_ "github.com/google/uuid"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/labstack/echo/v4"
	_ "github.com/nyaruka/phonenumbers"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/swaggo/echo-swagger"
	_ "github.com/swaggo/files/v2"
	_ "golang.org/x/crypto/bcrypt"
	_ "golang.org/x/time/rate"
	_ "github.com/getkin/kin-openapi/openapi2conv"
)

func main() {}
