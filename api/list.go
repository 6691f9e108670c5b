package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/store"
)

// listPage is the shape of every list answer: the page's items, always an array, and the cursor
// of the next page, null on the last. Each list's named type (ContactList, TeamList, …) has
// exactly this shape, so the swag comments can document it per resource.
type listPage[R any] interface {
	~struct {
		Items      []R     `json:"items"`
		NextCursor *string `json:"next_cursor" extensions:"x-nullable"`
	}
}

// list is what the list handlers share: read the page (?limit=, ?cursor=; a bad one is 422),
// fetch it, and answer 200 with L, each item mapped by to.
func list[L listPage[R], T, R any](c echo.Context, fetch func(ctx context.Context, p store.Page) ([]T, *string, error), to func(T) R) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	items, next, err := fetch(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf[L](items, next, to))
}

// listOf maps a page of items to the list answer L.
func listOf[L listPage[R], T, R any](items []T, next *string, to func(T) R) L {
	out := make([]R, len(items))
	for i, it := range items {
		out[i] = to(it)
	}
	return L{Items: out, NextCursor: next}
}
