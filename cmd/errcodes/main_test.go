package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestScanFollowsCodesToConstants(t *testing.T) {
	codes, families, err := scan("./testdata/sample", "github.com/atendimento/atendimento/internal/apperr")
	require.NoError(t, err)
	require.Equal(t, []string{
		"forbidden", "from_a_constant", "from_a_helper", "from_a_local", "from_a_local_branch", "from_a_map",
		"from_a_struct", "from_not_found", "validation_failed",
	}, codes)
	require.Equal(t, []string{"_suffixed"}, families)
}

func TestScanRefusesACodeItCannotFollow(t *testing.T) {
	_, _, err := scan("./testdata/dynamic", "github.com/atendimento/atendimento/internal/apperr")
	require.ErrorContains(t, err, "dynamic.go:11")
	require.ErrorContains(t, err, "strings.ToLower(s)")
}

// The list the SPA checks its translations against is the one the source makes today.
func TestGeneratedListIsCurrent(t *testing.T) {
	codes, families, err := scan("github.com/atendimento/atendimento/...")
	require.NoError(t, err)
	have, err := os.ReadFile("../../web/src/i18n/errorCodes.gen.ts")
	require.NoError(t, err)
	require.Equal(t, string(render(codes, families)), string(have), "run make docs")
}
