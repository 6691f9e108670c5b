package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
)

// The helpers below are the bind → call → respond steps every resource handler shares, so a
// handler names only its DTO, its domain call and its mapping, and every resource answers its
// creations, reads, changes and deletions the same way.

// request is a request DTO that maps itself to the domain's input In.
type request[In any] interface{ input() In }

// withBody binds the body to Req (400/413/422 on a bad one), calls call with the request's
// context and the body's domain input, and answers status with the result mapped by to.
func withBody[Req request[In], In, T, R any](c echo.Context, status int, call func(context.Context, In) (T, error), to func(T) R) error {
	var req Req
	if err := bind(c, &req); err != nil {
		return err
	}
	v, err := call(c.Request().Context(), req.input())
	if err != nil {
		return err
	}
	return c.JSON(status, to(v))
}

// created answers 201 with what create made of the body.
func created[Req request[In], In, T, R any](c echo.Context, create func(context.Context, In) (T, error), to func(T) R) error {
	return withBody[Req](c, http.StatusCreated, create, to)
}

// secretAnswer is the answer R, through its pointer, for a resource with a generated secret.
type secretAnswer[R any] interface {
	*R
	reveal(secret string)
}

// createdWithSecret answers 201 with what create made of the body, mapped by to, and the secret
// create generated revealed in it: the one time the caller sees it.
func createdWithSecret[Req request[In], PR secretAnswer[R], In, T, R any](c echo.Context, create func(context.Context, In) (T, string, error), to func(T) R) error {
	type made struct {
		v      T
		secret string
	}
	return created[Req](c, func(ctx context.Context, in In) (made, error) {
		v, secret, err := create(ctx, in)
		return made{v, secret}, err
	}, func(m made) R {
		out := to(m.v)
		PR(&out).reveal(m.secret)
		return out
	})
}

// updated answers 200 with the resource of the path's :id after update applied the body to it.
func updated[Req request[In], In, T, R any](c echo.Context, update func(ctx context.Context, id string, in In) (T, error), to func(T) R) error {
	return withBody[Req](c, http.StatusOK, func(ctx context.Context, in In) (T, error) {
		return update(ctx, c.Param("id"), in)
	}, to)
}

// fetched answers 200 with the resource of the path's :id.
func fetched[T, R any](c echo.Context, get func(ctx context.Context, id string) (T, error), to func(T) R) error {
	v, err := get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, to(v))
}

// deleted answers 204 once del has removed (or revoked) the resource of the path's :id.
func deleted(c echo.Context, del func(ctx context.Context, id string) error) error {
	if err := del(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
