package channel

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/phone"
	"github.com/atendimento/atendimento/internal/whatsapp"
)

// PhoneLookup asks the provider for a phone number by its id; *whatsapp.Client implements it.
type PhoneLookup interface {
	GetPhoneNumber(ctx context.Context, cr whatsapp.Credentials) (whatsapp.PhoneNumber, error)
}

var _ PhoneLookup = (*whatsapp.Client)(nil)

// CheckResult is what Meta says of a channel's number when its credentials work.
type CheckResult struct {
	DisplayPhoneNumber string
	VerifiedName       string
	QualityRating      string
	// PhoneNumberMatches is false when Meta's number is not the channel's phone_number: the
	// phone number id belongs to another number of the account.
	PhoneNumberMatches bool
}

// Errors of a connection test. The first three say which setting to fix, at its field.
var (
	ErrNotTestable = apperr.Conflict("channel_not_testable", "only whatsapp_cloud channels with a phone_number_id and an access_token can be tested")
)

// Check asks Meta for the channel's number with the channel's token ("Testar conexão"). A refusal
// becomes a problem whose code names what to fix: whatsapp_token_invalid (Meta's 190: wrong,
// expired or revoked token), whatsapp_phone_number_id_invalid (100, or 404: no such number for
// this token), whatsapp_permission_missing (10, 200–299: the token lacks whatsapp_business_*
// permissions or the number's asset), whatsapp_unreachable (no answer); any other refusal is a
// 502 provider_error with Meta's code and title.
func (s *Service) Check(ctx context.Context, id string, cloud PhoneLookup) (CheckResult, error) {
	r, err := s.get(ctx, id)
	if err != nil {
		return CheckResult{}, err
	}
	if r.Provider != ProviderWhatsAppCloud || r.PhoneNumberID == "" || r.AccessToken == "" {
		return CheckResult{}, ErrNotTestable
	}
	sec, err := s.open(r)
	if err != nil {
		return CheckResult{}, err
	}
	p, err := cloud.GetPhoneNumber(ctx, whatsapp.Credentials{PhoneNumberID: r.PhoneNumberID, WABAID: r.WabaID, AccessToken: sec.AccessToken})
	if err != nil {
		return CheckResult{}, checkError(err)
	}
	res := CheckResult{DisplayPhoneNumber: p.DisplayPhoneNumber, VerifiedName: p.VerifiedName, QualityRating: p.QualityRating}
	n, perr := phone.Parse(p.DisplayPhoneNumber, "BR")
	res.PhoneNumberMatches = perr == nil && n.E164() == r.PhoneNumber
	return res, nil
}

// checkError turns Meta's refusal of GET /{phone-number-id} into a problem that names the field
// to fix; Meta's own words go in the message, for the log and API clients.
func checkError(err error) error {
	var we *whatsapp.Error
	if !errors.As(err, &we) {
		return fmt.Errorf("test connection: %w", err)
	}
	meta := fmt.Sprintf("Meta answered error %d: %s", we.Code, we.Title)
	switch {
	case we.Code == 190:
		return settingInvalid("whatsapp_token_invalid", "access_token", "the access token is wrong, expired or revoked", meta, err)
	case we.Code == 10 || (we.Code >= 200 && we.Code <= 299):
		return settingInvalid("whatsapp_permission_missing", "access_token",
			"the access token lacks the whatsapp_business_management and whatsapp_business_messaging permissions for this number", meta, err)
	case we.Code == 100 || (we.Code == 0 && we.HTTPStatus == http.StatusNotFound):
		return settingInvalid("whatsapp_phone_number_id_invalid", "phone_number_id", "Meta has no phone number with this id for this token", meta, err)
	case we.HTTPStatus == 0:
		return &apperr.Error{Kind: apperr.KindBadGateway, Code: "whatsapp_unreachable", Message: "the WhatsApp Cloud API could not be reached", Err: err}
	case we.Code != 0:
		return &apperr.Error{Kind: apperr.KindBadGateway, Code: "provider_error", Message: "the WhatsApp Cloud API refused the test: " + meta, Err: err}
	default:
		return &apperr.Error{Kind: apperr.KindBadGateway, Code: "provider_error", Message: fmt.Sprintf("the WhatsApp Cloud API answered HTTP %d", we.HTTPStatus), Err: err}
	}
}

// settingInvalid is a 422 whose code is also the one field error, at the setting to fix; meta
// (Meta's code and title) goes in the problem's detail.
func settingInvalid(code, field, msg, meta string, cause error) error {
	return &apperr.Error{Kind: apperr.KindInvalid, Code: code, Message: msg + " (" + meta + ")", Err: cause,
		Fields: []apperr.FieldError{{Field: field, Code: code, Message: msg}}}
}
