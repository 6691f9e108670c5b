// Package team owns the groups of agents that conversations belong to, with the channels each
// team may use and its members.
package team

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/store"
)

// Team is a group of agents and the channels it may use.
type Team struct {
	ID         string
	Name       string
	ChannelIDs []string
	MemberIDs  []string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Input is what creating or changing a team takes; nil fields are left unchanged on update.
type Input struct {
	Name       *string
	ChannelIDs *[]string
	MemberIDs  *[]string
}

// MissingFunc returns those of ids that do not exist in the context's account.
type MissingFunc func(ctx context.Context, ids []string) ([]string, error)

// Service is the team domain.
type Service struct {
	db              *store.DB
	missingChannels MissingFunc
	missingUsers    MissingFunc
	// facts caches, per account and team, what every start and transfer checks.
	facts *store.Cache[facts]
}

// facts is what the checks of a start ask about a team: whether it exists, its channels and its
// members.
type facts struct {
	exists   bool
	channels map[string]bool
	members  map[string]bool
}

// factsTTL bounds how long an instance that missed another's change notification may use it.
const factsTTL = 30 * time.Second

// NewService returns the team service; the funcs check channel and user references.
func NewService(db *store.DB, missingChannels, missingUsers MissingFunc) *Service {
	return &Service{db: db, missingChannels: missingChannels, missingUsers: missingUsers,
		facts: store.NewCache[facts](db, "teams", factsTTL)}
}

// factsOf reads (or recalls) what the checks ask about team id.
func (s *Service) factsOf(ctx context.Context, id string) (facts, error) {
	return s.facts.Get(ctx, store.AccountID(ctx)+"|"+id, func() (facts, error) {
		missing, err := s.db.MissingIDs(ctx, "teams", []string{id})
		if err != nil || len(missing) > 0 {
			return facts{}, err
		}
		f := facts{exists: true, channels: map[string]bool{}, members: map[string]bool{}}
		var chans, members []string
		if err := s.db.Tenant(ctx, "team_channels").Where("team_id = ?", id).Pluck("channel_id", &chans).Error; err != nil {
			return facts{}, store.Translate(err, nil, nil)
		}
		if err := s.db.Tenant(ctx, "team_members").Where("team_id = ?", id).Pluck("user_id", &members).Error; err != nil {
			return facts{}, store.Translate(err, nil, nil)
		}
		for _, c := range chans {
			f.channels[c] = true
		}
		for _, u := range members {
			f.members[u] = true
		}
		return f, nil
	})
}

type row struct {
	ID        string
	AccountID string
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (row) TableName() string { return "teams" }

type channelLink struct {
	AccountID string
	TeamID    string
	ChannelID string
}

func (channelLink) TableName() string { return "team_channels" }

type memberLink struct {
	AccountID string
	TeamID    string
	UserID    string
}

func (memberLink) TableName() string { return "team_members" }

// ErrNotFound is returned for an id with no team in the account.
var ErrNotFound = apperr.NotFound("team_not_found", "no such team in this account")

var errNameTaken = apperr.Conflict("team_exists", "a team with this name already exists")

func (s *Service) check(ctx context.Context, in Input, creating bool) (apperr.Fields, error) {
	var f apperr.Fields
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		if n == "" || len(n) > 200 {
			f.Add("name", "name_invalid", "name must have 1 to 200 characters")
		}
	} else if creating {
		f.Add("name", "required", "name is required")
	}
	for _, ref := range []struct {
		ids     *[]string
		field   string
		code    string
		missing MissingFunc
	}{{in.ChannelIDs, "channel_ids", "channel_not_found", s.missingChannels}, {in.MemberIDs, "member_ids", "user_not_found", s.missingUsers}} {
		if ref.ids == nil {
			continue
		}
		if len(*ref.ids) > 500 {
			f.Add(ref.field, ref.field+"_invalid", "at most 500 ids")
			continue
		}
		missing, err := ref.missing(ctx, dedupe(*ref.ids))
		if err != nil {
			return nil, err
		}
		for _, id := range missing {
			f.Add(ref.field, ref.code, fmt.Sprintf("%q is not in this account", id))
		}
	}
	return f, nil
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// Create adds a team.
func (s *Service) Create(ctx context.Context, in Input) (Team, error) {
	f, err := s.check(ctx, in, true)
	if err != nil {
		return Team{}, err
	}
	if err := f.Err(); err != nil {
		return Team{}, err
	}
	now := store.Now()
	r := row{ID: store.NewID(), AccountID: store.AccountID(ctx), Name: strings.TrimSpace(*in.Name), CreatedAt: now, UpdatedAt: now}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.Conn(ctx).Create(&r).Error; err != nil {
			return store.Translate(err, nil, errNameTaken)
		}
		return s.setLinks(ctx, r.ID, in)
	})
	if err != nil {
		return Team{}, err
	}
	return s.Get(ctx, r.ID)
}

func (s *Service) setLinks(ctx context.Context, id string, in Input) error {
	s.facts.Changed(ctx, s.db)
	acc := store.AccountID(ctx)
	if err := replaceLinks(ctx, s.db, "team_channels", id, in.ChannelIDs, func(c string) channelLink {
		return channelLink{AccountID: acc, TeamID: id, ChannelID: c}
	}); err != nil {
		return err
	}
	return replaceLinks(ctx, s.db, "team_members", id, in.MemberIDs, func(u string) memberLink {
		return memberLink{AccountID: acc, TeamID: id, UserID: u}
	})
}

// replaceLinks replaces the team's links of one kind (its channels or its members) with one per
// id; nil ids means the input left that list alone, so it is kept.
func replaceLinks[L any](ctx context.Context, db *store.DB, table, teamID string, ids *[]string, link func(id string) L) error {
	if ids == nil {
		return nil
	}
	var none L
	if err := db.Tenant(ctx, table).Where("team_id = ?", teamID).Delete(&none).Error; err != nil {
		return err
	}
	for _, id := range dedupe(*ids) {
		l := link(id)
		if err := db.Conn(ctx).Create(&l).Error; err != nil {
			return err
		}
	}
	return nil
}

// Get returns one team with its channels and members.
func (s *Service) Get(ctx context.Context, id string) (Team, error) {
	r, err := store.Get[row](s.db.Tenant(ctx, "teams"), id, ErrNotFound)
	if err != nil {
		return Team{}, err
	}
	teams, err := s.withLinks(ctx, []row{r})
	if err != nil {
		return Team{}, err
	}
	return teams[0], nil
}

func (s *Service) withLinks(ctx context.Context, rows []row) ([]Team, error) {
	ids := make([]string, len(rows))
	byID := make(map[string]*Team, len(rows))
	out := make([]Team, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
		out[i] = Team{ID: r.ID, Name: r.Name, ChannelIDs: []string{}, MemberIDs: []string{}, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
		byID[r.ID] = &out[i]
	}
	if len(ids) == 0 {
		return out, nil
	}
	var chans []channelLink
	if err := s.db.Tenant(ctx, "team_channels").Where("team_id IN ?", ids).Find(&chans).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	for _, l := range chans {
		byID[l.TeamID].ChannelIDs = append(byID[l.TeamID].ChannelIDs, l.ChannelID)
	}
	var members []memberLink
	if err := s.db.Tenant(ctx, "team_members").Where("team_id IN ?", ids).Find(&members).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	for _, l := range members {
		byID[l.TeamID].MemberIDs = append(byID[l.TeamID].MemberIDs, l.UserID)
	}
	for i := range out {
		sort.Strings(out[i].ChannelIDs)
		sort.Strings(out[i].MemberIDs)
	}
	return out, nil
}

// List returns a page of teams; with channelID, only the teams allowed on that channel.
func (s *Service) List(ctx context.Context, channelID string, p store.Page) ([]Team, *string, error) {
	p, err := p.Normalize()
	if err != nil {
		return nil, nil, err
	}
	q := s.db.Tenant(ctx, "teams")
	if channelID != "" {
		if !store.ValidID(channelID) {
			return []Team{}, nil, nil
		}
		q = q.Where("id IN (?)", s.db.Tenant(ctx, "team_channels").Select("team_id").Where("channel_id = ?", channelID))
	}
	rows, next, err := store.FetchPage(p, q, func(r row) string { return r.ID })
	if err != nil {
		return nil, nil, err
	}
	teams, err := s.withLinks(ctx, rows)
	return teams, next, err
}

// Update changes a team's name, channels or members (lists are replaced whole).
func (s *Service) Update(ctx context.Context, id string, in Input) (Team, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return Team{}, err
	}
	f, err := s.check(ctx, in, false)
	if err != nil {
		return Team{}, err
	}
	if err := f.Err(); err != nil {
		return Team{}, err
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		updates := map[string]any{"updated_at": store.Now()}
		if in.Name != nil {
			updates["name"] = strings.TrimSpace(*in.Name)
		}
		if err := s.db.Tenant(ctx, "teams").Where("id = ?", id).Updates(updates).Error; err != nil {
			return store.Translate(err, nil, errNameTaken)
		}
		return s.setLinks(ctx, id, in)
	})
	if err != nil {
		return Team{}, err
	}
	return s.Get(ctx, id)
}

// Delete removes a team; its conversations keep their history without a team. inUse, when not
// nil, may refuse the deletion (open conversations that would lose their team): it runs in the
// same transaction, with the team's row locked, so nothing that refers to the team can be added
// between its answer and the delete. A write that referred to the team and lost the race (a
// foreign-key violation at the delete) is refused with conflict, not reported as a failure.
func (s *Service) Delete(ctx context.Context, id string, inUse func(ctx context.Context) error, conflict *apperr.Error) error {
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		found, err := s.db.LockRow(ctx, "teams", id)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		if inUse != nil {
			if err := inUse(ctx); err != nil {
				return err
			}
		}
		s.facts.Changed(ctx, s.db)
		return s.db.Tenant(ctx, "teams").Where("id = ?", id).Delete(&row{}).Error
	})
	if store.IsForeignKey(err) && conflict != nil {
		return conflict
	}
	return store.Translate(err, nil, nil)
}

// Exists reports whether id is a team of the account (as cached: see facts).
func (s *Service) Exists(ctx context.Context, id string) (bool, error) {
	f, err := s.factsOf(ctx, id)
	return f.exists, err
}

// Exists returns the check whether an id is a team of the context's account. Unlike the Service
// it needs only the database, so the channel service (which checks a channel's default team) can
// be built first, and the team service after it, asking the channel service about a team's
// channels: one forward order instead of two services that need each other.
func Exists(db *store.DB) func(ctx context.Context, id string) (bool, error) {
	return func(ctx context.Context, id string) (bool, error) {
		missing, err := db.MissingIDs(ctx, "teams", []string{id})
		return len(missing) == 0, err
	}
}

// AllowedOnChannel reports whether the team may use the channel.
func (s *Service) AllowedOnChannel(ctx context.Context, teamID, channelID string) (bool, error) {
	f, err := s.factsOf(ctx, teamID)
	return f.channels[channelID], err
}

// HasMember reports whether the user belongs to the team.
func (s *Service) HasMember(ctx context.Context, teamID, userID string) (bool, error) {
	f, err := s.factsOf(ctx, teamID)
	return f.members[userID], err
}

// TeamsOf returns the ids of the teams a user belongs to.
func (s *Service) TeamsOf(ctx context.Context, userID string) ([]string, error) {
	var ids []string
	err := s.db.Tenant(ctx, "team_members").Where("user_id = ?", userID).Pluck("team_id", &ids).Error
	return ids, store.Translate(err, nil, nil)
}

// MissingTeams returns those of ids that are not teams of the context's account.
func (s *Service) MissingTeams(ctx context.Context, ids []string) ([]string, error) {
	return s.db.MissingIDs(ctx, "teams", dedupe(ids))
}

// SetUserTeams makes the user a member of exactly the given teams (checked with MissingTeams
// first), leaving every other team's members as they are.
func (s *Service) SetUserTeams(ctx context.Context, userID string, teamIDs []string) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		s.facts.Changed(ctx, s.db)
		if err := s.db.Tenant(ctx, "team_members").Where("user_id = ?", userID).Delete(&memberLink{}).Error; err != nil {
			return store.Translate(err, nil, nil)
		}
		acc := store.AccountID(ctx)
		for _, t := range dedupe(teamIDs) {
			if err := s.db.Conn(ctx).Create(&memberLink{AccountID: acc, TeamID: t, UserID: userID}).Error; err != nil {
				return store.Translate(err, nil, nil)
			}
		}
		return nil
	})
}

// TeamsOfUsers returns the teams each of the users belongs to (sorted ids; users in no team are
// absent from the map).
func (s *Service) TeamsOfUsers(ctx context.Context, userIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(userIDs) == 0 {
		return out, nil
	}
	var links []memberLink
	if err := s.db.Tenant(ctx, "team_members").Where("user_id IN ?", userIDs).Order("team_id").Find(&links).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	for _, l := range links {
		out[l.UserID] = append(out[l.UserID], l.TeamID)
	}
	return out, nil
}
