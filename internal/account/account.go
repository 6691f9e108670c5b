// Package account owns the tenants (accounts), the people who log in (users), the integrators'
// API keys and the SPA's sessions, and turns credentials into a Principal.
package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/store"
)

// Role is what a user or key may do: admins manage the account, agents work conversations.
type Role string

// The roles.
const (
	RoleAdmin Role = "admin"
	RoleAgent Role = "agent"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleAgent }

// Account is a tenant: a company using the platform.
type Account struct {
	ID               string
	Name             string
	DefaultRegion    string
	AutoCloseWaiting bool
	// OptOutKeywords and OptInKeywords are the replies that opt a contact out of marketing
	// messages and back in; OptOutConfirmation is the reply to an opt-out ("" sends nothing).
	OptOutKeywords     []string
	OptInKeywords      []string
	OptOutConfirmation string
	// ExchangeRate is how many reais one US dollar buys, set by an admin; nil when none is set.
	ExchangeRate *ExchangeRate
	// CloseReasons are the reasons an agent picks from when closing a conversation.
	CloseReasons []string
	// TimeZone is the IANA zone the account's people work in ("America/Sao_Paulo").
	TimeZone string
	// WaitingTimeout is the account's own waiting timeout (0: waits never expire); nil follows
	// the server's WAITING_TIMEOUT.
	WaitingTimeout *time.Duration
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// User is an agent or admin who logs into the SPA.
type User struct {
	ID        string
	AccountID string
	Name      string
	Email     string
	Role      Role
	// Active is false for a deactivated user: no login, no session, and the API keys they
	// created are refused until an admin reactivates them.
	Active    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// APIKey describes an integrator key; its secret is shown only when created.
type APIKey struct {
	ID         string
	Name       string
	Role       Role
	Prefix     string
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	CreatedAt  time.Time
}

// Principal is who a request acts as, after authentication.
type Principal struct {
	AccountID string
	Role      Role
	// UserID is set for session users; API keys act for the account, not a person.
	UserID    string
	UserName  string
	APIKeyID  string
	SessionID string
}

// IsAdmin reports whether the principal may manage the account.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

// Service is the account domain.
type Service struct {
	db         *store.DB
	bcryptCost int
	sessionTTL time.Duration
	regions    perAccount[string]
	rates      perAccount[*ExchangeRate]
	keywords   perAccount[contact.Keywords]
	// keys is the API keys this instance has authenticated, by secret hash.
	keys *store.Cache[*knownKey]
	now  func() time.Time
}

// knownKey is a cached API key: its row as read, whether its creator was deactivated then, and
// when this instance last recorded its use.
type knownKey struct {
	row      apiKeyRow
	inactive bool
	touched  atomic.Int64 // unix nanoseconds
}

// keyCacheTTL bounds how long an instance that missed a revocation's notification may accept the
// key; the instance that revokes it, and every listening one, forget it at once.
const keyCacheTTL = 30 * time.Second

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock of API keys' last_used_at (tests move it past KeyUseResolution).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithBcryptCost sets the password hashing cost (tests lower it to keep the suite fast).
func WithBcryptCost(cost int) Option { return func(s *Service) { s.bcryptCost = cost } }

// NewService returns the account service.
func NewService(db *store.DB, opts ...Option) *Service {
	s := &Service{db: db, bcryptCost: bcrypt.DefaultCost, sessionTTL: 12 * time.Hour, now: store.Now,
		keys: store.NewCache[*knownKey](db, "api_keys", keyCacheTTL)}
	for _, o := range opts {
		o(s)
	}
	return s
}

type accountRow struct {
	ID               string
	Name             string
	DefaultRegion    string
	AutoCloseWaiting bool
	// OptOutKeywords and OptInKeywords are JSON arrays of strings.
	OptOutKeywords     string
	OptInKeywords      string
	OptOutConfirmation string
	// ExchangeRate and ExchangeRateDate are both set or both NULL.
	ExchangeRate     *float64
	ExchangeRateDate *string
	// CloseReasons is a JSON array of strings.
	CloseReasons string
	TimeZone     string
	// WaitingTimeoutSeconds is NULL to follow the server's WAITING_TIMEOUT, 0 for never.
	WaitingTimeoutSeconds *int64
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

func (accountRow) TableName() string { return "accounts" }

func (r accountRow) toAccount() Account {
	a := Account{ID: r.ID, Name: r.Name, DefaultRegion: r.DefaultRegion, AutoCloseWaiting: r.AutoCloseWaiting,
		OptOutKeywords: keywordList(r.OptOutKeywords), OptInKeywords: keywordList(r.OptInKeywords), OptOutConfirmation: r.OptOutConfirmation,
		CloseReasons: keywordList(r.CloseReasons), TimeZone: r.TimeZone, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.ExchangeRate != nil && r.ExchangeRateDate != nil {
		a.ExchangeRate = &ExchangeRate{BRLPerUSD: *r.ExchangeRate, Date: *r.ExchangeRateDate}
	}
	if r.WaitingTimeoutSeconds != nil {
		d := time.Duration(*r.WaitingTimeoutSeconds) * time.Second
		a.WaitingTimeout = &d
	}
	return a
}

type userRow struct {
	ID           string
	AccountID    string
	Name         string
	Email        string
	PasswordHash string
	Role         string
	Active       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

func (r userRow) toUser() User {
	return User{ID: r.ID, AccountID: r.AccountID, Name: r.Name, Email: r.Email, Role: Role(r.Role), Active: r.Active, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

type apiKeyRow struct {
	ID         string
	AccountID  string
	Name       string
	Role       string
	Prefix     string
	SecretHash string
	CreatedBy  *string
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (apiKeyRow) TableName() string { return "api_keys" }

func (r apiKeyRow) toAPIKey() APIKey {
	return APIKey{ID: r.ID, Name: r.Name, Role: Role(r.Role), Prefix: r.Prefix, LastUsedAt: r.LastUsedAt, RevokedAt: r.RevokedAt, CreatedAt: r.CreatedAt}
}

type sessionRow struct {
	ID         string
	AccountID  string
	UserID     string
	SecretHash string
	CsrfToken  string
	ExpiresAt  time.Time
	CreatedAt  time.Time
}

func (sessionRow) TableName() string { return "sessions" }

var (
	errUserNotFound   = apperr.NotFound("user_not_found", "no such user in this account")
	errAPIKeyNotFound = apperr.NotFound("api_key_not_found", "no such API key in this account")
	errUnauthorized   = apperr.New(apperr.KindUnauthorized, "unauthorized", "missing or invalid credentials")
	// ErrInvalidCredentials is a login with a wrong email or password; the login guard counts it
	// as a failure, unlike an outage.
	ErrInvalidCredentials = apperr.New(apperr.KindUnauthorized, "invalid_credentials", "wrong email or password")
	// ErrUserInactive is a login with the right password by a user an admin deactivated.
	ErrUserInactive = apperr.New(apperr.KindUnauthorized, "user_inactive", "this user was deactivated by an admin")
)

// CreateAccount creates a tenant. It is an operator action (CLI, bootstrap), outside any tenant.
func (s *Service) CreateAccount(ctx context.Context, name, region string) (Account, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Account{}, apperr.Invalid(apperr.FieldError{Field: "name", Code: "required", Message: "account name is required"})
	}
	if region == "" {
		region = "BR"
	}
	now := store.Now()
	row := accountRow{ID: store.NewID(), Name: name, DefaultRegion: region, TimeZone: DefaultTimeZone, OptOutKeywords: keywordJSON(DefaultOptOutKeywords),
		OptInKeywords: keywordJSON(DefaultOptInKeywords), CreatedAt: now, UpdatedAt: now}
	if err := s.db.Conn(ctx).Create(&row).Error; err != nil {
		return Account{}, fmt.Errorf("create account: %w", err)
	}
	return row.toAccount(), nil
}

// Current returns the context's account.
func (s *Service) Current(ctx context.Context) (Account, error) {
	var row accountRow
	err := s.db.Conn(ctx).Where("id = ?", store.AccountID(ctx)).Take(&row).Error
	if err != nil {
		return Account{}, store.Translate(err, apperr.NotFound("account_not_found", "no such account"), nil)
	}
	return row.toAccount(), nil
}

// Empty reports whether no account exists yet (a fresh database).
func (s *Service) Empty(ctx context.Context) (bool, error) {
	var n int64
	if err := s.db.Conn(ctx).Table("accounts").Count(&n).Error; err != nil {
		return false, err
	}
	return n == 0, nil
}

// Accounts returns up to limit accounts, oldest first. It is an operator's lookup (the CLI),
// outside any tenant.
func (s *Service) Accounts(ctx context.Context, limit int) ([]Account, error) {
	var rows []accountRow
	if err := s.db.Conn(ctx).Order("created_at, id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	out := make([]Account, len(rows))
	for i, r := range rows {
		out[i] = r.toAccount()
	}
	return out, nil
}

// UsersByEmail returns the users with this email in every account, oldest first: an email is
// unique within an account only, so an operator's lookup (the CLI), outside any tenant, may find
// several.
func (s *Service) UsersByEmail(ctx context.Context, email string) ([]User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return nil, nil
	}
	var rows []userRow
	if err := s.db.Conn(ctx).Where("email = ?", email).Order("created_at, id").Limit(100).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	out := make([]User, len(rows))
	for i, r := range rows {
		out[i] = r.toUser()
	}
	return out, nil
}

// UserInput is what creating or changing a user takes; nil fields are left as they are on update.
type UserInput struct {
	Name     *string
	Email    *string
	Password *string
	Role     *Role
	// Active deactivates (false) or reactivates (true) a user; a new user is active.
	Active *bool
}

func (in UserInput) check(creating bool) (apperr.Fields, string) {
	var f apperr.Fields
	email := ""
	if in.Name != nil && strings.TrimSpace(*in.Name) == "" {
		f.Add("name", "required", "name is required")
	} else if in.Name == nil && creating {
		f.Add("name", "required", "name is required")
	}
	if in.Email != nil {
		a, err := mail.ParseAddress(*in.Email)
		if err != nil || a.Address != strings.TrimSpace(*in.Email) {
			f.Add("email", "email_invalid", "email is not a valid address")
		} else {
			email = strings.ToLower(a.Address)
		}
	} else if creating {
		f.Add("email", "required", "email is required")
	}
	if in.Password != nil && (len(*in.Password) < 8 || len(*in.Password) > 72) {
		f.Add("password", "password_invalid", "password must have 8 to 72 characters")
	} else if in.Password == nil && creating {
		f.Add("password", "required", "password is required")
	}
	if in.Role != nil && !in.Role.Valid() {
		f.Add("role", "role_invalid", "role must be admin or agent")
	} else if in.Role == nil && creating {
		f.Add("role", "required", "role is required")
	}
	return f, email
}

// CreateUser adds a user to the context's account.
func (s *Service) CreateUser(ctx context.Context, in UserInput) (User, error) {
	f, email := in.check(true)
	if err := f.Err(); err != nil {
		return User{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(*in.Password), s.bcryptCost)
	if err != nil {
		return User{}, fmt.Errorf("hash password: %w", err)
	}
	now := store.Now()
	row := userRow{ID: store.NewID(), AccountID: store.AccountID(ctx), Name: strings.TrimSpace(*in.Name), Email: email,
		PasswordHash: string(hash), Role: string(*in.Role), Active: true, CreatedAt: now, UpdatedAt: now}
	if row.AccountID == "" {
		return User{}, store.ErrNoAccount
	}
	if err := s.db.Conn(ctx).Create(&row).Error; err != nil {
		return User{}, store.Translate(err, nil, apperr.Conflict("user_exists", "a user with this email already exists").With("field", "email"))
	}
	return row.toUser(), nil
}

// GetUser returns one user of the account.
func (s *Service) GetUser(ctx context.Context, id string) (User, error) {
	r, err := store.Get[userRow](s.db.Tenant(ctx, "users"), id, errUserNotFound)
	return r.toUser(), err
}

// UserNames returns the names of those of ids that are users of the account, by id.
func (s *Service) UserNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	var valid []string
	for _, id := range ids {
		if store.ValidID(id) {
			valid = append(valid, id)
		}
	}
	if len(valid) == 0 {
		return out, nil
	}
	var rows []userRow
	if err := s.db.Tenant(ctx, "users").Where("id IN ?", valid).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

// ListUsers returns a page of the account's users, newest first.
func (s *Service) ListUsers(ctx context.Context, p store.Page) ([]User, *string, error) {
	return store.List(p, s.db.Tenant(ctx, "users"), func(r userRow) string { return r.ID }, userRow.toUser)
}

// UpdateUser changes the given fields of a user. A new password or a deactivation ends the
// user's sessions; the last active admin can be neither demoted nor deactivated (409 last_admin).
func (s *Service) UpdateUser(ctx context.Context, id string, in UserInput) (User, error) {
	if _, err := s.GetUser(ctx, id); err != nil {
		return User{}, err
	}
	f, email := in.check(false)
	if err := f.Err(); err != nil {
		return User{}, err
	}
	updates := map[string]any{"updated_at": store.Now()}
	if in.Name != nil {
		updates["name"] = strings.TrimSpace(*in.Name)
	}
	if in.Email != nil {
		updates["email"] = email
	}
	if in.Role != nil {
		updates["role"] = string(*in.Role)
	}
	if in.Active != nil {
		updates["active"] = *in.Active
	}
	if in.Password != nil {
		hash, err := bcrypt.GenerateFromPassword([]byte(*in.Password), s.bcryptCost)
		if err != nil {
			return User{}, fmt.Errorf("hash password: %w", err)
		}
		updates["password_hash"] = string(hash)
	}
	losesAdmin := (in.Role != nil && *in.Role != RoleAdmin) || (in.Active != nil && !*in.Active)
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		if losesAdmin {
			if err := s.keepAnAdmin(ctx, id); err != nil {
				return err
			}
		}
		if err := s.db.Tenant(ctx, "users").Where("id = ?", id).Updates(updates).Error; err != nil {
			return store.Translate(err, nil, apperr.Conflict("user_exists", "a user with this email already exists").With("field", "email"))
		}
		if in.Active != nil {
			s.keys.Changed(ctx, s.db) // the keys a deactivated user made stop (or start again)
		}
		if in.Password != nil || (in.Active != nil && !*in.Active) {
			// A new password or a deactivation ends the user's sessions.
			return s.db.Tenant(ctx, "sessions").Where("user_id = ?", id).Delete(&sessionRow{}).Error
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	return s.GetUser(ctx, id)
}

// ErrLastAdmin refuses a change that would leave the account without an active admin user.
var ErrLastAdmin = apperr.Conflict("last_admin", "the account must keep at least one active admin")

// keepAnAdmin fails with ErrLastAdmin when the user id is an active admin and no other active
// admin exists: the change about to remove, demote or deactivate them would leave nobody to run
// the account. Two admins demoting each other at once must not both succeed, so the check holds
// the account's row lock (Postgres) or the single write lock (SQLite) until the transaction ends.
func (s *Service) keepAnAdmin(ctx context.Context, id string) error {
	acc := store.AccountID(ctx)
	if err := s.db.Conn(ctx).Exec("UPDATE accounts SET updated_at = updated_at WHERE id = ?", acc).Error; err != nil {
		return store.Translate(err, nil, nil)
	}
	var target []userRow
	if err := s.db.Tenant(ctx, "users").Where("id = ?", id).Limit(1).Find(&target).Error; err != nil {
		return store.Translate(err, nil, nil)
	}
	if len(target) == 0 || target[0].Role != string(RoleAdmin) || !target[0].Active {
		return nil
	}
	var others int64
	if err := s.db.Tenant(ctx, "users").Where("id <> ? AND role = ? AND active = ?", id, string(RoleAdmin), true).Count(&others).Error; err != nil {
		return store.Translate(err, nil, nil)
	}
	if others == 0 {
		return ErrLastAdmin
	}
	return nil
}

// DeleteUser removes a user and their sessions, and revokes the API keys they created (which
// would otherwise outlive a person who may no longer use the account); the last active admin
// cannot be removed (409 last_admin).
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	if !store.ValidID(id) {
		return errUserNotFound
	}
	return s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.keepAnAdmin(ctx, id); err != nil {
			return err
		}
		now := store.Now()
		if err := s.db.Tenant(ctx, "api_keys").Where("created_by = ? AND revoked_at IS NULL", id).
			Updates(map[string]any{"revoked_at": now, "updated_at": now}).Error; err != nil {
			return store.Translate(err, nil, nil)
		}
		// Its keys are revoked, and its team memberships go with it (ON DELETE CASCADE).
		s.db.CachesChanged(ctx, "api_keys", "teams")
		res := s.db.Tenant(ctx, "users").Where("id = ?", id).Delete(&userRow{})
		if res.Error != nil {
			return store.Translate(res.Error, nil, nil)
		}
		if res.RowsAffected == 0 {
			return errUserNotFound
		}
		return nil
	})
}

// UsersExist checks that every id is a user of the account, for team membership.
func (s *Service) UsersExist(ctx context.Context, ids []string) ([]string, error) {
	return s.db.MissingIDs(ctx, "users", ids)
}

// CreateAPIKey makes a new key for the account and returns its secret, which is never shown again.
func (s *Service) CreateAPIKey(ctx context.Context, name string, role Role, createdBy string) (APIKey, string, error) {
	var f apperr.Fields
	if strings.TrimSpace(name) == "" {
		f.Add("name", "required", "name is required")
	}
	if !role.Valid() {
		f.Add("role", "role_invalid", "role must be admin or agent")
	}
	if err := f.Err(); err != nil {
		return APIKey{}, "", err
	}
	secret := "atd_" + randomToken(32)
	k, err := s.insertKey(ctx, strings.TrimSpace(name), role, secret, createdBy)
	return k, secret, err
}

// CreateAPIKeyWithSecret stores a key with a secret chosen by the operator (BOOTSTRAP_API_KEY).
func (s *Service) CreateAPIKeyWithSecret(ctx context.Context, name string, role Role, secret string) (APIKey, error) {
	if len(secret) < 16 {
		return APIKey{}, fmt.Errorf("api key must have at least 16 characters")
	}
	return s.insertKey(ctx, name, role, secret, "")
}

func (s *Service) insertKey(ctx context.Context, name string, role Role, secret, createdBy string) (APIKey, error) {
	now := store.Now()
	row := apiKeyRow{ID: store.NewID(), AccountID: store.AccountID(ctx), Name: name, Role: string(role),
		Prefix: secret[:min(8, len(secret))], SecretHash: hashSecret(secret), CreatedAt: now, UpdatedAt: now}
	if createdBy != "" {
		row.CreatedBy = &createdBy
	}
	if row.AccountID == "" {
		return APIKey{}, store.ErrNoAccount
	}
	if err := s.db.Conn(ctx).Create(&row).Error; err != nil {
		return APIKey{}, store.Translate(err, nil, nil)
	}
	return row.toAPIKey(), nil
}

// ListAPIKeys returns a page of the account's keys (without secrets).
func (s *Service) ListAPIKeys(ctx context.Context, p store.Page) ([]APIKey, *string, error) {
	return store.List(p, s.db.Tenant(ctx, "api_keys"), func(r apiKeyRow) string { return r.ID }, apiKeyRow.toAPIKey)
}

// RevokeAPIKey revokes a key at once; requests made with it get 401 from then on.
func (s *Service) RevokeAPIKey(ctx context.Context, id string) error {
	if !store.ValidID(id) {
		return errAPIKeyNotFound
	}
	now := store.Now()
	res := s.db.Tenant(ctx, "api_keys").Where("id = ? AND revoked_at IS NULL", id).Updates(map[string]any{"revoked_at": now, "updated_at": now})
	if res.Error != nil {
		return store.Translate(res.Error, nil, nil)
	}
	if res.RowsAffected == 0 {
		return errAPIKeyNotFound
	}
	s.keys.Changed(ctx, s.db)
	return nil
}

// AuthenticateKey resolves a bearer API key. Lookup is by the secret's SHA-256 (the key has 256
// bits of entropy, so a fast hash is safe) and the stored hash is compared in constant time.
func (s *Service) AuthenticateKey(ctx context.Context, secret string) (Principal, error) {
	if secret == "" || len(secret) > 200 {
		return Principal{}, errUnauthorized
	}
	h := hashSecret(secret)
	k, err := s.keys.Get(ctx, h, func() (*knownKey, error) { return s.loadKey(ctx, h) })
	if err != nil {
		return Principal{}, err
	}
	if subtle.ConstantTimeCompare([]byte(k.row.SecretHash), []byte(h)) != 1 || k.row.RevokedAt != nil || k.inactive {
		return Principal{}, errUnauthorized
	}
	if err := s.touchKey(ctx, k); err != nil {
		return Principal{}, err
	}
	return Principal{AccountID: k.row.AccountID, Role: Role(k.row.Role), APIKeyID: k.row.ID}, nil
}

// loadKey reads the key whose secret hashes to h, and whether the user who made it was
// deactivated (such a key stops working with them).
func (s *Service) loadKey(ctx context.Context, h string) (*knownKey, error) {
	var row apiKeyRow
	err := s.db.Conn(ctx).Where("secret_hash = ?", h).Take(&row).Error
	if err != nil {
		if store.IsNotFound(err) {
			return nil, errUnauthorized
		}
		return nil, store.Translate(err, nil, nil)
	}
	k := &knownKey{row: row}
	if row.LastUsedAt != nil {
		k.touched.Store(row.LastUsedAt.UnixNano())
	}
	if row.CreatedBy != nil && row.RevokedAt == nil {
		var inactive int64
		if err := s.db.Conn(ctx).Table("users").Where("id = ? AND account_id = ? AND active = ?", *row.CreatedBy, row.AccountID, false).
			Count(&inactive).Error; err != nil {
			return nil, store.Translate(err, nil, nil)
		}
		k.inactive = inactive > 0
	}
	return k, nil
}

// KeyUseResolution is how stale an API key's last_used_at may get: it is written at most once
// per key and minute, so a busy integration costs one UPDATE a minute rather than one a request.
const KeyUseResolution = time.Minute

// touchKey records the key's use when its last_used_at is older than KeyUseResolution. The
// guard is in the statement, so instances racing on one key write it once.
func (s *Service) touchKey(ctx context.Context, k *knownKey) error {
	now := s.now()
	last := k.touched.Load()
	if last != 0 && now.Sub(time.Unix(0, last)) < KeyUseResolution {
		return nil
	}
	if !k.touched.CompareAndSwap(last, now.UnixNano()) {
		return nil // another request of this instance records it
	}
	err := s.db.Conn(ctx).Table("api_keys").Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", k.row.ID, now.Add(-KeyUseResolution)).
		Update("last_used_at", now).Error
	return store.Translate(err, nil, nil)
}

// Session is a logged-in SPA session: the cookie token and the CSRF token the SPA echoes.
type Session struct {
	ID        string
	Token     string
	CSRFToken string
	ExpiresAt time.Time
	User      User
}

// dummyHash keeps a login for an unknown email as slow as one for a known email.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not-a-password-at-all"), bcrypt.DefaultCost)

// Login checks an email and password and opens a new session (a fresh id every time, so a
// session fixed before login is never reused).
func (s *Service) Login(ctx context.Context, email, password string) (Session, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var rows []userRow
	if email != "" {
		if err := s.db.Conn(ctx).Where("email = ?", email).Limit(10).Find(&rows).Error; err != nil {
			return Session{}, store.Translate(err, nil, nil)
		}
	}
	var user *userRow
	for i := range rows {
		if bcrypt.CompareHashAndPassword([]byte(rows[i].PasswordHash), []byte(password)) == nil {
			user = &rows[i]
			break
		}
	}
	if len(rows) == 0 {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
	}
	if user == nil {
		return Session{}, ErrInvalidCredentials
	}
	if !user.Active {
		// The password was right: say why, rather than send the person to reset it.
		return Session{}, ErrUserInactive
	}
	token := randomToken(32)
	now := store.Now()
	row := sessionRow{ID: store.NewID(), AccountID: user.AccountID, UserID: user.ID, SecretHash: hashSecret(token),
		CsrfToken: randomToken(24), ExpiresAt: now.Add(s.sessionTTL), CreatedAt: now}
	if err := s.db.Conn(ctx).Create(&row).Error; err != nil {
		return Session{}, store.Translate(err, nil, nil)
	}
	return Session{ID: row.ID, Token: token, CSRFToken: row.CsrfToken, ExpiresAt: row.ExpiresAt, User: user.toUser()}, nil
}

// AuthenticateSession resolves a session cookie to its principal and CSRF token.
func (s *Service) AuthenticateSession(ctx context.Context, token string) (Principal, string, error) {
	if token == "" || len(token) > 200 {
		return Principal{}, "", errUnauthorized
	}
	h := hashSecret(token)
	var row sessionRow
	if err := s.db.Conn(ctx).Where("secret_hash = ?", h).Take(&row).Error; err != nil {
		if store.IsNotFound(err) {
			return Principal{}, "", errUnauthorized
		}
		return Principal{}, "", store.Translate(err, nil, nil)
	}
	if subtle.ConstantTimeCompare([]byte(row.SecretHash), []byte(h)) != 1 || !store.Now().Before(row.ExpiresAt) {
		return Principal{}, "", errUnauthorized
	}
	var u userRow
	if err := s.db.Conn(ctx).Where("id = ? AND account_id = ? AND active = ?", row.UserID, row.AccountID, true).Take(&u).Error; err != nil {
		if store.IsNotFound(err) {
			return Principal{}, "", errUnauthorized
		}
		return Principal{}, "", store.Translate(err, nil, nil)
	}
	return Principal{AccountID: row.AccountID, Role: Role(u.Role), UserID: u.ID, UserName: u.Name, SessionID: row.ID}, row.CsrfToken, nil
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, sessionID string) error {
	return store.Translate(s.db.Tenant(ctx, "sessions").Where("id = ?", sessionID).Delete(&sessionRow{}).Error, nil, nil)
}

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
