package phone

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ValidRegion reports whether region is an ISO 3166 region code (such as "BR") whose national
// numbers Parse can read, case-insensitively. An account's default region must be one.
func ValidRegion(region string) bool {
	r := strings.ToUpper(strings.TrimSpace(region))
	return len(r) == 2 && phonenumbers.GetSupportedRegions()[r]
}
