package apperr

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// A sentinel matches its copies with extra members and wrapped forms, and nothing else.
func TestIsMatchesKindAndCode(t *testing.T) {
	t.Parallel()
	notFound := NotFound("contact_not_found", "no such contact")
	conflict := Conflict("contact_exists", "exists")
	require.ErrorIs(t, notFound.With("existing_id", "x"), notFound)
	require.ErrorIs(t, fmt.Errorf("load: %w", notFound), notFound)
	require.NotErrorIs(t, NotFound("channel_not_found", "no such channel"), notFound)
	require.NotErrorIs(t, New(KindConflict, "contact_not_found", "same code, other kind"), notFound)
	require.NotErrorIs(t, conflict, notFound)
	require.NotErrorIs(t, errors.New("contact_not_found"), notFound)
}

func TestFieldsOf(t *testing.T) {
	t.Parallel()
	var f Fields
	f.Add("a", "required", "a is required")
	f.Add("b.c", "b_invalid", "bad")
	require.Equal(t, []string{"a:required", "b.c:b_invalid"}, FieldsOf(fmt.Errorf("start: %w", f.Err())).Codes())
	require.Empty(t, FieldsOf(Conflict("x", "y")))
	require.Empty(t, FieldsOf(nil))
	require.NoError(t, Fields(nil).Err())
}
