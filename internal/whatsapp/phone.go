package whatsapp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// PhoneNumber is what Meta says of a business phone number (GET /{phone-number-id}).
type PhoneNumber struct {
	// ID is the phone number id asked for.
	ID string
	// DisplayPhoneNumber is the number as Meta shows it, such as "+55 11 4000-9999".
	DisplayPhoneNumber string
	// VerifiedName is the business name Meta approved for the number.
	VerifiedName string
	// QualityRating is GREEN, YELLOW, RED or UNKNOWN.
	QualityRating string
}

// phoneNumberFields are the fields asked of GET /{phone-number-id}.
const phoneNumberFields = "display_phone_number,verified_name,quality_rating"

// GetPhoneNumber asks Meta for the number cr.PhoneNumberID with cr.AccessToken: the cheapest call
// that proves the id and the token belong together, which "Testar conexão" needs.
func (c *Client) GetPhoneNumber(ctx context.Context, cr Credentials) (PhoneNumber, error) {
	if cr.PhoneNumberID == "" || cr.AccessToken == "" {
		return PhoneNumber{}, fmt.Errorf("get phone number: %w: phone number id and access token are required", ErrInvalidArgument)
	}
	u := fmt.Sprintf("%s/%s/%s?%s", c.base, c.version, url.PathEscape(cr.PhoneNumberID), url.Values{"fields": {phoneNumberFields}}.Encode())
	_, _, body, err := c.do(ctx, http.MethodGet, u, cr.AccessToken, nil)
	if err != nil {
		return PhoneNumber{}, fmt.Errorf("get phone number: %w", err)
	}
	var p struct {
		ID                 flexString `json:"id"`
		DisplayPhoneNumber flexString `json:"display_phone_number"`
		VerifiedName       flexString `json:"verified_name"`
		QualityRating      flexString `json:"quality_rating"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return PhoneNumber{}, fmt.Errorf("get phone number: decode: %w", err)
	}
	return PhoneNumber{ID: string(p.ID), DisplayPhoneNumber: string(p.DisplayPhoneNumber), VerifiedName: string(p.VerifiedName),
		QualityRating: string(p.QualityRating)}, nil
}
