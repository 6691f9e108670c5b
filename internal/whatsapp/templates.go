package whatsapp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// templatesPageSize is the page size asked of Meta (its maximum is larger, its default smaller).
const templatesPageSize = 100

// maxTemplatePages stops a paging loop that never ends (a provider bug must not hang a sync).
const maxTemplatePages = 1000

// templateFields are asked for explicitly rather than relying on Meta's default field set.
const templateFields = "id,name,language,status,category,parameter_format,components"

// Template is one message template of a WhatsApp Business Account, as Meta reports it.
type Template struct {
	// ID is Meta's template id.
	ID string `json:"id"`
	// Name is the template's name (lowercase letters, digits and _).
	Name string `json:"name"`
	// Language is the language code, such as pt_BR.
	Language string `json:"language"`
	// Status is APPROVED, PENDING, REJECTED, PAUSED, DISABLED, …; only APPROVED can be sent.
	Status string `json:"status"`
	// Category is MARKETING, UTILITY or AUTHENTICATION.
	Category string `json:"category"`
	// ParameterFormat is NAMED or POSITIONAL; empty means positional.
	ParameterFormat string `json:"parameter_format,omitempty"`
	// Components are HEADER, BODY, FOOTER and BUTTONS in Meta's shape, untouched.
	Components json.RawMessage `json:"components,omitempty"`
}

// templatesPage is one page of GET /{waba_id}/message_templates.
type templatesPage struct {
	Data []struct {
		ID              flexString      `json:"id"`
		Name            flexString      `json:"name"`
		Language        flexString      `json:"language"`
		Status          flexString      `json:"status"`
		Category        flexString      `json:"category"`
		ParameterFormat flexString      `json:"parameter_format"`
		Components      json.RawMessage `json:"components"`
	} `json:"data"`
	Paging struct {
		Cursors struct {
			After flexString `json:"after"`
		} `json:"cursors"`
		Next flexString `json:"next"`
	} `json:"paging"`
}

// ListTemplates returns every template of the account cr.WABAID, following Meta's paging. A
// paging.next link is followed as given only when it points at the configured base URL, so the
// access token never goes to another host; otherwise the next page is asked of the base URL with
// the page's after cursor.
func (c *Client) ListTemplates(ctx context.Context, cr Credentials) ([]Template, error) {
	if cr.WABAID == "" || cr.AccessToken == "" {
		return nil, fmt.Errorf("list templates: %w: WABA id and access token are required", ErrInvalidArgument)
	}
	first := c.templatesURL(cr.WABAID, "")
	next := first
	seen := map[string]bool{}
	var out []Template
	for page := 0; next != ""; page++ {
		if page >= maxTemplatePages || seen[next] {
			return nil, fmt.Errorf("list templates: paging does not end after %d pages", page)
		}
		seen[next] = true
		_, _, body, err := c.do(ctx, http.MethodGet, next, cr.AccessToken, nil)
		if err != nil {
			return nil, fmt.Errorf("list templates (page %d): %w", page+1, err)
		}
		var p templatesPage
		if err := json.Unmarshal(body, &p); err != nil {
			var te *json.UnmarshalTypeError
			if !asTypeError(err, &te) {
				return nil, fmt.Errorf("list templates (page %d): decode: %w", page+1, err)
			}
		}
		for _, d := range p.Data {
			t := Template{
				ID:              string(d.ID),
				Name:            string(d.Name),
				Language:        string(d.Language),
				Status:          string(d.Status),
				Category:        string(d.Category),
				ParameterFormat: string(d.ParameterFormat),
			}
			if len(d.Components) > 0 && string(d.Components) != "null" {
				t.Components = d.Components
			}
			out = append(out, t)
		}
		next = c.nextPageURL(cr.WABAID, string(p.Paging.Next), string(p.Paging.Cursors.After))
		if next == "" && p.Paging.Next != "" {
			return nil, fmt.Errorf("list templates (page %d): paging.next points elsewhere and there is no after cursor", page+1)
		}
	}
	return out, nil
}

func (c *Client) templatesURL(wabaID, after string) string {
	q := url.Values{}
	q.Set("fields", templateFields)
	q.Set("limit", fmt.Sprint(templatesPageSize))
	if after != "" {
		q.Set("after", after)
	}
	return c.base + "/" + c.version + "/" + url.PathEscape(wabaID) + "/message_templates?" + q.Encode()
}

// nextPageURL returns the URL of the page after this one, or "" when this was the last.
func (c *Client) nextPageURL(wabaID, next, after string) string {
	if next == "" {
		return ""
	}
	if c.sameOrigin(next) {
		return next
	}
	if after == "" {
		return ""
	}
	return c.templatesURL(wabaID, after)
}

// sameOrigin reports whether u has the base URL's scheme and host.
func (c *Client) sameOrigin(u string) bool {
	nu, err := url.Parse(u)
	if err != nil {
		return false
	}
	bu, err := url.Parse(c.base)
	if err != nil {
		return false
	}
	return strings.EqualFold(nu.Scheme, bu.Scheme) && strings.EqualFold(nu.Host, bu.Host) && nu.User == nil
}
