// Package app wires the service together: configuration, database, domain services and the
// HTTP server. main and the end-to-end tests build the same App. It is the composition root, so
// it lives beside main, above api and every internal package: nothing it imports imports it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/atendimento/atendimento"
	"github.com/atendimento/atendimento/api"
	"github.com/atendimento/atendimento/internal/account"
	"github.com/atendimento/atendimento/internal/channel"
	"github.com/atendimento/atendimento/internal/clock"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/crmhook"
	"github.com/atendimento/atendimento/internal/dispatch"
	"github.com/atendimento/atendimento/internal/event"
	"github.com/atendimento/atendimento/internal/idempotency"
	"github.com/atendimento/atendimento/internal/media"
	"github.com/atendimento/atendimento/internal/pricing"
	"github.com/atendimento/atendimento/internal/quickreply"
	"github.com/atendimento/atendimento/internal/secret"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/team"
	"github.com/atendimento/atendimento/internal/template"
	"github.com/atendimento/atendimento/internal/templatesync"
	"github.com/atendimento/atendimento/internal/webhook"
	"github.com/atendimento/atendimento/internal/whatsapp"
	"github.com/atendimento/atendimento/internal/worker"
)

// Config is the server's configuration, read from the environment.
type Config struct {
	DatabaseURL string
	HTTPAddr    string
	// PublicURL is the base URL the world reaches this server at (PUBLIC_URL, such as
	// https://atendimento.example.com; default none): the first-start instructions build the
	// login and WhatsApp webhook URLs on it.
	PublicURL              string
	SecretKey              string
	BootstrapAccountName   string
	BootstrapAdminEmail    string
	BootstrapAdminPassword string
	BootstrapAPIKey        string
	WhatsAppAPIBaseURL     string
	WhatsAppAPIVersion     string
	WebDir                 string
	SecureCookies          bool
	// MediaStore is where files live (MEDIA_STORE): default a folder "media" beside the SQLite
	// file (data/media with PostgreSQL); a folder path; or s3://bucket?endpoint=host:port&region=…
	// (&insecure=true for plain http) for several servers, with MEDIA_STORE_ACCESS_KEY and
	// MEDIA_STORE_SECRET_KEY (else the AWS_* environment or the instance's role).
	MediaStore          string
	MediaStoreAccessKey string
	MediaStoreSecretKey string
	// MediaFetch tunes the inbound media fetch queue: MEDIA_FETCH_TIMEOUT bounds one fetch
	// (default 2m), MEDIA_FETCH_STALL cuts a download that receives nothing for that long
	// (default 30s), MEDIA_FETCH_LEASE is how long a claim lasts (default 5m, always longer
	// than the timeout).
	MediaFetch media.FetchConfig
	Dispatch   dispatch.Config
	// TemplateSyncInterval is how often every whatsapp_cloud channel's templates are pulled from
	// Meta (TEMPLATE_SYNC_INTERVAL, default 15m; 0 = never).
	TemplateSyncInterval time.Duration
	// WaitingTimeout is how long a conversation waits for the contact's first reply before it
	// expires, and closes if the account chose so (WAITING_TIMEOUT, default 72h; 0 = never).
	WaitingTimeout time.Duration
	// RequestTimeout bounds each HTTP request's work, database statements included, so a database
	// that stops answering yields 503 database_unavailable, not a hung request (REQUEST_TIMEOUT,
	// default 15s; 0 = no bound). The event stream and template syncs are exempt.
	RequestTimeout time.Duration
	// NoDispatcher leaves the dispatcher stopped (tests that drive the outbox by hand).
	NoDispatcher bool
	// NoEventLogSweep leaves the event log's retention sweep off (tests that count the timers
	// waiting on a fake Clock, such as the dispatcher's).
	NoEventLogSweep bool
	// NoWaitingSweep leaves the waiting sweeper off (tests that count the timers on a fake Clock).
	NoWaitingSweep bool
	// BcryptCost lowers password hashing cost in tests (0 = bcrypt's default).
	BcryptCost int
	// Webhooks tunes the CRM webhooks (WEBHOOK_ALLOW_PRIVATE=1 allows private targets).
	Webhooks crmhook.Config
	// APIKeyRate is each API key's sustained rate in requests per second (API_KEY_RATE, default 50;
	// 0 = unlimited), with bursts up to APIKeyBurst (API_KEY_BURST, default 100).
	APIKeyRate  float64
	APIKeyBurst int
	// LogLevel is the lowest level logged (LOG_LEVEL: debug, info, warn or error; default info).
	// main builds its logger with it; the App logs through the logger it is given.
	LogLevel slog.Level
	// MetricsToken, when set, protects /metrics: a scrape must send Authorization: Bearer
	// <token> (METRICS_TOKEN; empty = open, for a scraper on a private network).
	MetricsToken string
	// MetricsInterval is how often the outbox and CRM webhook queues are measured for /metrics
	// (METRICS_INTERVAL, default 15s; 0 = never): a scrape reads the last measure, never the tables.
	MetricsInterval time.Duration
	// Clock is the time of the dispatcher, the sweepers, the rate limits and the conversations'
	// rules (nil: the real clock; tests pass a fake they advance).
	Clock clock.Clock
}

// FromEnv reads the configuration with its defaults (an unset or empty variable takes its
// default). A variable that is set but cannot be used, such as a mistyped duration or number, a
// negative count or a boolean that is neither true nor false, is an error rather than its
// default: the *ConfigError names every such variable at once, with its value (secrets masked),
// so one restart fixes them all.
func FromEnv() (Config, error) {
	c, _, err := fromEnv(os.Getenv)
	return c, err
}

// EnvVars lists every environment variable FromEnv reads, in the order it reads them. It is
// taken from FromEnv itself (a read of an empty environment), so the deployment files, checked
// against it, cannot name a variable the server ignores.
func EnvVars() []string {
	_, keys, _ := fromEnv(func(string) string { return "" })
	return keys
}

// fromEnv is FromEnv on getenv; it also returns the names it read.
func fromEnv(getenv func(string) string) (Config, []string, error) {
	e := envReader{getenv: getenv}
	c := Config{
		DatabaseURL:            e.str("DATABASE_URL", ""),
		HTTPAddr:               e.str("HTTP_ADDR", ":8080"),
		PublicURL:              e.publicURL("PUBLIC_URL"),
		SecretKey:              e.secretKey("SECRET_KEY"),
		BootstrapAccountName:   e.str("BOOTSTRAP_ACCOUNT_NAME", "Atendimento"),
		BootstrapAdminEmail:    e.str("BOOTSTRAP_ADMIN_EMAIL", ""),
		BootstrapAdminPassword: e.str("BOOTSTRAP_ADMIN_PASSWORD", ""),
		BootstrapAPIKey:        e.str("BOOTSTRAP_API_KEY", ""),
		WhatsAppAPIBaseURL:     e.str("WHATSAPP_API_BASE_URL", "https://graph.facebook.com"),
		WhatsAppAPIVersion:     e.str("WHATSAPP_API_VERSION", "v25.0"),
		WebDir:                 e.str("WEB_DIR", "web/dist"),
		SecureCookies:          e.bool("COOKIE_SECURE"),
	}
	c.MediaStore = e.str("MEDIA_STORE", "")
	c.MediaStoreAccessKey = e.str("MEDIA_STORE_ACCESS_KEY", "")
	c.MediaStoreSecretKey = e.str("MEDIA_STORE_SECRET_KEY", "")
	c.MediaFetch.Timeout = e.duration("MEDIA_FETCH_TIMEOUT", 0)
	c.MediaFetch.Stall = e.duration("MEDIA_FETCH_STALL", 0)
	c.MediaFetch.Lease = e.duration("MEDIA_FETCH_LEASE", 0)
	c.Webhooks.AllowPrivate = e.bool("WEBHOOK_ALLOW_PRIVATE")
	c.Webhooks.MaxAttempts = e.int("WEBHOOK_MAX_ATTEMPTS", 0)
	c.Webhooks.BaseDelay = e.duration("WEBHOOK_RETRY_DELAY", 0)
	c.Dispatch.Workers = e.int("DISPATCH_WORKERS", 0)
	c.Dispatch.Lease = e.duration("DISPATCH_LEASE", 0)
	c.Dispatch.Poll = e.duration("DISPATCH_POLL", 0)
	c.Dispatch.ChannelRate = e.float("CHANNEL_RATE", 0)
	c.Dispatch.MaxAttempts = e.int("DISPATCH_MAX_ATTEMPTS", 0)
	c.TemplateSyncInterval = e.duration("TEMPLATE_SYNC_INTERVAL", 15*time.Minute)
	c.WaitingTimeout = e.duration("WAITING_TIMEOUT", 72*time.Hour)
	c.RequestTimeout = e.duration("REQUEST_TIMEOUT", 15*time.Second)
	c.APIKeyRate = e.float("API_KEY_RATE", 50)
	c.APIKeyBurst = e.int("API_KEY_BURST", 100)
	c.LogLevel = e.level("LOG_LEVEL")
	c.MetricsToken = e.str("METRICS_TOKEN", "")
	c.MetricsInterval = e.duration("METRICS_INTERVAL", 15*time.Second)
	if len(e.problems) > 0 {
		return c, e.keys, &ConfigError{Problems: e.problems}
	}
	return c, e.keys, nil
}

// ConfigError lists the environment variables FromEnv could not use, one problem each.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	return "invalid configuration: " + strings.Join(e.Problems, "; ")
}

// envReader reads typed variables, none of which may be negative, and collects a problem for
// each one it cannot use instead of stopping at the first. Every read goes through get, which
// records the name for EnvVars.
type envReader struct {
	getenv   func(string) string
	keys     []string
	problems []string
}

func (r *envReader) get(key string) string {
	r.keys = append(r.keys, key)
	return r.getenv(key)
}

// str reads a string variable, def when it is unset or empty.
func (r *envReader) str(key, def string) string {
	if v := r.get(key); v != "" {
		return v
	}
	return def
}

func (r *envReader) bad(key, value, why string) {
	if strings.ContainsFunc(value, func(c rune) bool { return !strconv.IsGraphic(c) || c == ' ' }) {
		value = strconv.Quote(value)
	}
	r.problems = append(r.problems, key+"="+value+": "+why)
}

// lookup returns a variable's value, or false when it is unset or empty (the default applies).
func (r *envReader) lookup(key string) (string, bool) {
	v := r.get(key)
	return v, v != ""
}

func (r *envReader) int(key string, def int) int {
	return number(r, key, def, strconv.Atoi, "a whole number")
}

func (r *envReader) float(key string, def float64) float64 {
	return number(r, key, def, func(v string) (float64, error) {
		f, err := strconv.ParseFloat(v, 64)
		if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
			err = errors.New("not finite")
		}
		return f, err
	}, "a number")
}

func (r *envReader) duration(key string, def time.Duration) time.Duration {
	return number(r, key, def, time.ParseDuration, "a duration (such as 30s, 5m or 1h30m)")
}

// number reads a variable with parse; a value that does not parse (it is not what) or is
// negative is a problem, and the default stands in for it.
func number[N int | float64 | time.Duration](r *envReader, key string, def N, parse func(string) (N, error), what string) N {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	n, err := parse(v)
	switch {
	case err != nil:
		r.bad(key, v, "not "+what)
	case n < 0:
		r.bad(key, v, "must not be negative")
	default:
		return n
	}
	return def
}

func (r *envReader) bool(key string) bool {
	v, ok := r.lookup(key)
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.bad(key, v, "not a boolean (1, true, 0 or false)")
	}
	return b
}

// level reads a log level: debug, info, warn (or warning) or error, in any case; unset is info.
func (r *envReader) level(key string) slog.Level {
	v, ok := r.lookup(key)
	if !ok {
		return slog.LevelInfo
	}
	switch strings.ToLower(v) {
	case "debug":
		return slog.LevelDebug
	case "info":
		return slog.LevelInfo
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	r.bad(key, v, "not a log level (debug, info, warn or error)")
	return slog.LevelInfo
}

// secretKey reads SECRET_KEY, which seals channel secrets and so must be long enough to be a key;
// its value is never repeated in a problem.
func (r *envReader) secretKey(key string) string {
	v := r.get(key)
	if v != "" && len(v) < secret.MinKeyLen {
		r.bad(key, "***", fmt.Sprintf("must have at least %d characters", secret.MinKeyLen))
	}
	return v
}

// publicURL reads the server's public base URL, which must be an absolute http(s) URL with a
// host and nothing after its path; the trailing slash is dropped so paths join onto it.
func (r *envReader) publicURL(key string) string {
	v, ok := r.lookup(key)
	if !ok {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		r.bad(key, v, "not an absolute http(s) URL such as https://atendimento.example.com")
		return ""
	}
	return strings.TrimRight(v, "/")
}

// Bootstrapping reports whether any BOOTSTRAP_* variable asks for a first account.
func (c Config) Bootstrapping() bool {
	return c.BootstrapAdminEmail != "" || c.BootstrapAPIKey != ""
}

// LogValue logs the configuration with secrets masked.
func (c Config) LogValue() slog.Value {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "***"
	}
	db := "sqlite:" + store.DefaultSQLitePath
	if c.DatabaseURL != "" {
		db = maskURL(c.DatabaseURL)
	}
	return slog.GroupValue(slog.String("database", db), slog.String("http_addr", c.HTTPAddr), slog.String("public_url", c.PublicURL), slog.String("secret_key", mask(c.SecretKey)),
		slog.String("bootstrap_admin_email", c.BootstrapAdminEmail), slog.String("bootstrap_api_key", mask(c.BootstrapAPIKey)),
		slog.String("whatsapp_api_base_url", c.WhatsAppAPIBaseURL), slog.String("whatsapp_api_version", c.WhatsAppAPIVersion),
		slog.String("web_dir", c.WebDir), slog.String("media_store", maskURL(c.MediaStore)), slog.String("media_store_secret_key", mask(c.MediaStoreSecretKey)), slog.Duration("template_sync_interval", c.TemplateSyncInterval),
		slog.Duration("waiting_timeout", c.WaitingTimeout), slog.Duration("request_timeout", c.RequestTimeout), slog.Float64("api_key_rate", c.APIKeyRate), slog.Int("api_key_burst", c.APIKeyBurst),
		slog.String("log_level", c.LogLevel.String()), slog.String("metrics_token", mask(c.MetricsToken)), slog.Duration("metrics_interval", c.MetricsInterval))
}

// maskURL hides a database URL's password, in the user info or in a query parameter
// (libpq reads ?password= too); a URL that does not parse is hidden whole.
func maskURL(u string) string {
	if !strings.Contains(u, "://") {
		return u // an SQLite path
	}
	p, err := url.Parse(u)
	if err != nil {
		return "***"
	}
	user := p.User
	p.User = nil
	q := p.Query()
	masked := false
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") {
			q.Set(k, "***")
			masked = true
		}
	}
	if masked {
		p.RawQuery = q.Encode()
	}
	out := p.String()
	if user != nil {
		info := url.User(user.Username()).String()
		if _, ok := user.Password(); ok {
			info += ":***"
		}
		out = strings.Replace(out, "://", "://"+info+"@", 1)
	}
	return out
}

// App is the wired service.
type App struct {
	Config        Config
	DB            *store.DB
	Log           *slog.Logger
	Accounts      *account.Service
	Contacts      *contact.Service
	Channels      *channel.Service
	Teams         *team.Service
	Templates     *template.Service
	TemplateSync  *templatesync.Syncer
	Conversations *conversation.Service
	QuickReplies  *quickreply.Service
	Media         *media.Service
	Fetcher       *media.Fetcher
	Dispatcher    *dispatch.Dispatcher
	Events        *event.Broker
	CRMHooks      *crmhook.Service
	Cloud         *whatsapp.Client
	Handler       *echo.Echo
	Registry      *prometheus.Registry
	clock         clock.Clock
	metrics       *metrics
	// instance tells this App's dispatch wake-ups from the other instances' (wakeDispatchers).
	instance string
	stop     context.CancelFunc
	jobs     []*worker.Worker
}

// dispatchChannel is the NOTIFY channel that wakes every instance's dispatcher.
const dispatchChannel = "atendimento_dispatch"

// New opens the database, applies migrations and builds every service and the HTTP handler.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	db, err := store.Open(ctx, store.Options{URL: cfg.DatabaseURL, Log: log})
	if err != nil {
		return nil, err
	}
	a, err := build(ctx, cfg, log, db)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return a, nil
}

// NewWithDB builds the App on an open database (tests give each App its own).
func NewWithDB(ctx context.Context, cfg Config, log *slog.Logger, db *store.DB) (*App, error) {
	return build(ctx, cfg, log, db)
}

// build constructs every service once, each after the ones it is given, with no field filled in
// later: accounts, contacts, channels (checking a default team with team.Exists, which needs only
// the database), teams (asking the channel service about their channels), templates, the event
// broker, conversations (publishing to the broker), then what reads conversations: the event
// renderer, the CRM webhooks (which join the broker as its sink through AddSink, before anything
// is published), the dispatcher, the HTTP API.
func build(ctx context.Context, cfg Config, log *slog.Logger, db *store.DB) (*App, error) {
	if err := db.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	key, err := secretKey(cfg, db, log)
	if err != nil {
		return nil, err
	}
	box, err := secret.NewBox(key)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, DB: db, Log: log, Registry: prometheus.NewRegistry(), clock: clock.Or(cfg.Clock), instance: store.NewID()}
	cfg.Dispatch.Clock = cfg.Clock
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var opts []account.Option
	if cfg.BcryptCost > 0 {
		opts = append(opts, account.WithBcryptCost(cfg.BcryptCost))
	}
	if cfg.Clock != nil {
		opts = append(opts, account.WithClock(func() time.Time { return cfg.Clock.Now().UTC().Truncate(time.Microsecond) }))
	}
	a.Accounts = account.NewService(db, opts...)
	a.Contacts = contact.NewService(db, a.Accounts.Region)
	a.Channels = channel.NewService(db, box, team.Exists(db))
	a.Teams = team.NewService(db, a.Channels.Missing, a.Accounts.UsersExist)
	a.Templates = template.NewService(db, func(ctx context.Context, id string) (bool, error) {
		missing, err := a.Channels.Missing(ctx, []string{id})
		return len(missing) == 0, err
	})
	// Conversations publish to the broker, and the CRM webhooks, one of the broker's sinks, render
	// the conversation an event names: the renderer and the sink come after the conversations
	// and join the broker as they are built. Likewise conversations wake the dispatcher, which
	// sends through them: its loop is built first and handed to it.
	a.Events = event.New(db, log)
	a.Events.SetClock(a.clock)
	a.metrics = newMetrics(a.Registry, a.Events.Subscribers)
	cfg.Dispatch.Observer, cfg.Webhooks.Observer = a.metrics, a.metrics
	dispatching := worker.New(cfg.Clock)
	var now func() time.Time // nil: store.Now
	if cfg.Clock != nil {
		// Stored times are UTC to the microsecond Postgres keeps, as store.Now makes them.
		now = func() time.Time { return cfg.Clock.Now().UTC().Truncate(time.Microsecond) }
	}
	blobs, err := media.OpenBlobs(ctx, cfg.MediaStore, mediaDir(db), cfg.MediaStoreAccessKey, cfg.MediaStoreSecretKey)
	if err != nil {
		return nil, err
	}
	a.Media = media.New(db, blobs, media.Options{Clock: cfg.Clock})
	a.Conversations = conversation.NewService(db, conversation.Deps{Media: a.Media, Contacts: a.Contacts, Channels: a.Channels, Teams: a.Teams,
		Templates: a.Templates, Card: pricing.Default(), Wake: wakeDispatchers(dispatching, db, log, a.instance), Publisher: a.Events, Now: now,
		Keywords: a.Accounts.ConsentKeywords, CloseReasons: a.Accounts.CloseReasons, UserNames: a.Accounts.UserNames})
	a.QuickReplies = quickreply.NewService(db)
	render := &api.EventRenderer{Conversations: a.Conversations, Contacts: a.Contacts, Templates: a.Templates, Accounts: a.Accounts, Media: a.Media}
	a.CRMHooks = crmhook.New(cfg.Webhooks, db, box, render.Render, log)
	a.Events.AddSink(a.CRMHooks)
	a.Cloud = whatsapp.NewClient(whatsapp.Config{BaseURL: cfg.WhatsAppAPIBaseURL, Version: cfg.WhatsAppAPIVersion})
	// The fetcher polls on the real clock: tests that move a fake clock count the timers waiting
	// on it (the dispatcher's), and the fetch queue's due times still follow cfg.Clock.
	a.Fetcher = a.Media.NewFetcher(worker.New(nil), a.Cloud, media.FetchConfig{Log: log, Ready: a.Conversations.MediaChanged,
		Timeout: cfg.MediaFetch.Timeout, Stall: cfg.MediaFetch.Stall, Lease: cfg.MediaFetch.Lease,
		Credentials: func(ctx context.Context, channelID string) (whatsapp.Credentials, error) {
			ch, err := a.Channels.Get(ctx, channelID)
			if err != nil {
				return whatsapp.Credentials{}, err
			}
			sec, err := a.Channels.Secrets(ctx, channelID)
			return whatsapp.Credentials{PhoneNumberID: ch.PhoneNumberID, WABAID: ch.WABAID, AccessToken: sec.AccessToken}, err
		}})
	a.TemplateSync = templatesync.New(a.Channels, a.Templates, a.Cloud, log)
	cfg.Dispatch.Media = a.Media
	a.Dispatcher = dispatch.New(cfg.Dispatch, dispatching, a.Conversations, a.Channels, a.Contacts, a.Cloud, log)
	deps := api.Deps{DB: db, Accounts: a.Accounts, Contacts: a.Contacts, Channels: a.Channels, Teams: a.Teams, Templates: a.Templates,
		Conversations: a.Conversations, QuickReplies: a.QuickReplies, Media: a.Media, Idempotency: idempotency.New(db), Webhooks: webhook.New(a.Conversations, a.Templates, a.Events, log), Log: log, Registry: a.Registry, OpenAPI: atendimento.OpenAPI,
		SecureCookies: cfg.SecureCookies, TemplateSync: a.TemplateSync, WaitingTimeout: cfg.WaitingTimeout, RequestTimeout: cfg.RequestTimeout,
		APIKeyRate: cfg.APIKeyRate, APIKeyBurst: cfg.APIKeyBurst, LoginLimit: api.LoginLimit{Now: a.clock.Now}, MetricsToken: cfg.MetricsToken,
		Cloud: a.Cloud, PublicURL: cfg.PublicURL}
	deps.Events, deps.CRMHooks = a.Events, a.CRMHooks
	if cfg.WebDir != "" {
		if st, err := os.Stat(filepath.Join(cfg.WebDir, "index.html")); err == nil && !st.IsDir() {
			deps.SPA = os.DirFS(cfg.WebDir)
		}
	}
	a.Handler = api.New(deps)
	return a, nil
}

// mediaDir is the default media folder: beside the SQLite file, or data/media with PostgreSQL
// (one server only: several need MEDIA_STORE=s3://…).
func mediaDir(db *store.DB) string {
	if db.Dialect() == store.SQLite {
		return filepath.Join(filepath.Dir(db.URL()), "media")
	}
	return filepath.Join("data", "media")
}

// secretKey returns SECRET_KEY, or on SQLite a key generated once and kept beside the database.
func secretKey(cfg Config, db *store.DB, log *slog.Logger) (string, error) {
	if cfg.SecretKey != "" {
		return cfg.SecretKey, nil
	}
	if db.Dialect() != store.SQLite {
		return "", errors.New("SECRET_KEY is required with PostgreSQL (channel secrets are encrypted with it)")
	}
	path := filepath.Join(filepath.Dir(db.URL()), "secret.key")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	k := secret.Generate()
	if err := os.WriteFile(path, []byte(k+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	log.Warn("SECRET_KEY not set: generated one for the SQLite database; keep it with the database file", "path", path)
	return k, nil
}

// wakeDispatchers returns what tells this instance's dispatcher (its loop, w), and on Postgres
// every instance's, that due rows were committed. The NOTIFY goes out from the background, one
// for all the wake-ups that arrive while one is being sent: under load a request does not wait
// for a round trip of its own to Postgres, and the others' dispatchers are woken as often. Its
// payload names this instance, whose own dispatcher was woken already and ignores it (Start).
func wakeDispatchers(w *worker.Worker, db *store.DB, log *slog.Logger, instance string) func() {
	if db.Dialect() != store.Postgres {
		return w.Wake
	}
	notify := coalesce(func() {
		if err := db.Notify(context.Background(), dispatchChannel, instance); err != nil {
			log.Warn("notify dispatchers", "err", err.Error())
		}
	})
	return func() {
		w.Wake()
		notify()
	}
}

// coalesce returns a func that runs fn in a goroutine of its own: at least once after every
// call, never twice at once; the calls made while fn runs share its next run. The goroutine ends
// when no call is waiting.
func coalesce(fn func()) func() {
	var mu sync.Mutex
	running, again := false, false
	loop := func() {
		for {
			fn()
			mu.Lock()
			if !again {
				running = false
				mu.Unlock()
				return
			}
			again = false
			mu.Unlock()
		}
	}
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if running {
			again = true
			return
		}
		running = true
		go loop()
	}
}

// Start runs the background work: the dispatcher and the Postgres listener that wakes it.
func (a *App) Start(ctx context.Context) {
	ctx, a.stop = context.WithCancel(ctx)
	// The read caches (API keys, channels, teams, templates) follow the other instances' writes.
	a.DB.ListenCaches(ctx, a.Log)
	a.Events.Start(ctx)
	a.CRMHooks.Start(ctx)
	a.startJobs(ctx)
	a.Fetcher.Start(ctx)
	if a.Config.NoDispatcher {
		return
	}
	a.DB.Listen(ctx, a.Log, []string{dispatchChannel}, func(_, from string) {
		if from != a.instance { // this instance's own wake-ups woke its dispatcher already
			a.Dispatcher.Wake()
		}
	})
	a.Dispatcher.Start(ctx)
}

// Stop ends the background work, letting in-flight sends be recorded.
func (a *App) Stop() {
	if a.stop != nil {
		a.stop()
	}
	for _, w := range a.jobs {
		w.Stop()
	}
	a.Dispatcher.Stop()
	a.Fetcher.Stop()
	a.CRMHooks.Stop()
	a.Events.Stop()
}

// Listen binds the HTTP address, before anything else starts: an address already in use is
// then an error naming it, with nothing seeded or printed yet.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("HTTP_ADDR %s is already in use (another server listens there; stop it or set HTTP_ADDR to a free address): %w", addr, err)
	}
	if err != nil {
		return nil, fmt.Errorf("listen on HTTP_ADDR %s: %w", addr, err)
	}
	return ln, nil
}

// Serve runs the HTTP server on ln (from Listen) until ctx ends, then shuts down gracefully:
// in-flight requests finish (up to 20 s). It closes ln.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Addr: a.Config.HTTPAddr, Handler: a.Handler, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	srv.RegisterOnShutdown(a.Events.CloseAll) // event streams never end on their own
	a.Start(context.WithoutCancel(ctx))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.Log.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		a.Stop() // the background work ends before the caller closes the database under it
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	a.Stop()
	a.Log.Info("stopped")
	return err
}

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }
