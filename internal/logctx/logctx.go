// Package logctx carries log attributes in a context, so every line logged with that context
// names what it is about: a request's id, a conversation, a message, its WhatsApp id (wamid).
// One message can then be followed from the API call to Meta and back by grepping one id.
//
// With derives a context whose lines carry more attributes (a send, one webhook item); Add
// attaches attributes to the context's innermost set in place, so a handler can name what it
// worked on and the request's access line, logged by an outer middleware with the request's
// context, carries it too. Handler wraps a slog.Handler to add them to every record.
package logctx

import (
	"context"
	"log/slog"
	"sync"
)

type key struct{}

// set is one context's attributes; parent holds those of the context it was derived from.
type set struct {
	parent *set
	mu     sync.Mutex
	attrs  []slog.Attr
}

// With returns a context whose log lines carry attrs besides those ctx already carries; an
// attribute named again replaces the outer one on those lines.
func With(ctx context.Context, attrs ...slog.Attr) context.Context {
	parent, _ := ctx.Value(key{}).(*set)
	return context.WithValue(ctx, key{}, &set{parent: parent, attrs: append([]slog.Attr(nil), attrs...)})
}

// Add attaches attrs to the attributes ctx carries, in place: every context sharing them (the
// request's, seen by the access log) logs them from now on. Without any (ctx was not made by
// With) it does nothing; it is safe from several goroutines.
func Add(ctx context.Context, attrs ...slog.Attr) {
	s, _ := ctx.Value(key{}).(*set)
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range attrs {
		s.attrs = replace(s.attrs, a)
	}
}

// Attrs returns the attributes ctx carries, outermost first, each key once (the innermost wins).
func Attrs(ctx context.Context) []slog.Attr {
	s, _ := ctx.Value(key{}).(*set)
	var chain []*set
	for ; s != nil; s = s.parent {
		chain = append(chain, s)
	}
	var out []slog.Attr
	for i := len(chain) - 1; i >= 0; i-- {
		c := chain[i]
		c.mu.Lock()
		for _, a := range c.attrs {
			out = replace(out, a)
		}
		c.mu.Unlock()
	}
	return out
}

// replace sets a in attrs: in the place of an attribute of the same key, or appended.
func replace(attrs []slog.Attr, a slog.Attr) []slog.Attr {
	for i := range attrs {
		if attrs[i].Key == a.Key {
			attrs[i] = a
			return attrs
		}
	}
	return append(attrs, a)
}

// Handler wraps h so every record logged with a context carries the context's attributes.
func Handler(h slog.Handler) slog.Handler { return handler{h} }

type handler struct{ slog.Handler }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if attrs := Attrs(ctx); len(attrs) > 0 {
			r.AddAttrs(attrs...)
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h handler) WithAttrs(a []slog.Attr) slog.Handler { return handler{h.Handler.WithAttrs(a)} }
func (h handler) WithGroup(n string) slog.Handler      { return handler{h.Handler.WithGroup(n)} }
