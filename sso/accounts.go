package sso

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/ssoattr/ssoattr/domain"
)

// Actors recorded on events that no user caused.
const (
	ActorCLI    = "cli"
	ActorSystem = "system"
)

// NewUser is the input of a user creation (docs/API.md#create-user). Nil pointers are
// fields that were not sent.
type NewUser struct {
	Username string
	Password *string
	// PasswordHash, when set, is the account's password as an existing
	// hash (see HashPassword), stored as it is; Password must then be nil.
	// It is for accounts made by the Go API (a migration, the benchmark's
	// users): no HTTP request can set it.
	PasswordHash       string
	PasswordMustChange bool
	Email              *string
	DisplayName        *string
	FirstName          *string
	MiddleName         *string
	LastName           *string
	IsLocked           bool
	SignUpStatus       string // "" means final
	IsTOTPEnabled      bool
	TOTPKey            *string
	TOTPLabel          *string
	IsRateLimitActive  bool
	RateLimitDef       *string
	AutoApprove        bool
}

func trimmedOrNil(p *string) *string {
	if p == nil {
		return nil
	}
	t := strings.TrimSpace(*p)
	if t == "" {
		return nil
	}
	return &t
}

// check is the part of a creation's input step (docs/API.md#processing-order,
// step 5) that comes before the caller is authenticated: a sign-up status,
// when sent, that domain.ValidSignupStatus accepts (docs/API.md#d21);
// domain.ErrInvalidInput otherwise.
func (in *NewUser) check() error {
	if in.SignUpStatus != "" && !domain.ValidSignupStatus(in.SignUpStatus) {
		return domain.ErrInvalidInput
	}
	return nil
}

// buildUser turns the input into a new account, validated, with its secrets
// encrypted. approvedBy is approval_status_mod_by.
func (s *Service) buildUser(ctx context.Context, in NewUser, now time.Time, approvedBy string, m Meta) (*domain.User, string, error) {
	if !domain.ValidUsername(in.Username) {
		return nil, "", domain.ErrUsernameInvalid
	}
	if err := in.check(); err != nil {
		return nil, "", err
	}
	if in.SignUpStatus == "" {
		in.SignUpStatus = domain.SignupFinal
	}
	password := ""
	hash := in.PasswordHash
	if hash != "" {
		if _, _, _, ok := parseHash(hash); !ok || in.Password != nil {
			return nil, "", domain.ErrInvalidInput
		}
	} else if in.Password != nil {
		password = *in.Password
		if err := s.passwordPolicy().Check(password); err != nil {
			return nil, "", err
		}
	} else {
		password = randomPassword()
	}
	if hash == "" {
		var err error
		if hash, err = s.hashPassword(ctx, password); err != nil {
			return nil, "", err
		}
	}
	key := newTOTPKey()
	if in.TOTPKey != nil && *in.TOTPKey != "" {
		if !domain.ValidTOTPKey(*in.TOTPKey) {
			return nil, "", domain.ErrInvalidInput
		}
		key = strings.ToUpper(*in.TOTPKey)
	}
	u := &domain.User{
		ID: domain.NewUserID(), Username: in.Username,
		DisplayName: trimmedOrNil(in.DisplayName), FirstName: trimmedOrNil(in.FirstName),
		MiddleName: trimmedOrNil(in.MiddleName), LastName: trimmedOrNil(in.LastName),
		IsLocked:       in.IsLocked,
		ApprovalStatus: domain.ApprovalApproved, ApprovalStatusModTime: now, ApprovalStatusModBy: approvedBy,
		PasswordHash:  s.keys.EncryptString(hash),
		PasswordIsSet: true, PasswordMustChange: in.PasswordMustChange,
		PasswordLastSet: now, PasswordExpiry: domain.AddClamped(now, s.cfg.PasswordExpiry),
		SignUpStatus: in.SignUpStatus, SignUpTime: now,
		IsTOTPEnabled: in.IsTOTPEnabled, TOTPKey: s.keys.EncryptString(key),
		IsRateLimitActive: in.IsRateLimitActive, RateLimitDef: in.RateLimitDef,
	}
	if in.IsLocked {
		u.LockedTime, u.LockedBy = &now, &approvedBy
	}
	if !in.AutoApprove && s.cfg.SignupApprovalNeeded {
		u.ApprovalStatus = domain.ApprovalBeforeDecision
	}
	if u.DisplayName == nil {
		var parts []string
		for _, p := range []*string{u.FirstName, u.MiddleName, u.LastName} {
			if p != nil {
				parts = append(parts, *p)
			}
		}
		if len(parts) > 0 {
			dn := strings.Join(parts, " ")
			u.DisplayName = &dn
		}
	}
	if in.Email != nil {
		e := s.storeEmail(*in.Email)
		u.Email = &e
	}
	if in.TOTPLabel != nil && *in.TOTPLabel != "" {
		u.TOTPLabel = s.keys.EncryptString(*in.TOTPLabel)
	}
	ctxJSON, _ := json.Marshal(map[string]string{"current_app": m.App, "remote_addr": m.RemoteAddr})
	u.CreationCtx = string(ctxJSON)
	return u, password, nil
}

func (s *Service) storeEmail(e string) string {
	if s.cfg.EncryptEmail {
		return s.keys.EncryptString(e)
	}
	return e
}

// insertUser appends the new account together with its username claim, as
// one atomic batch, so two writers can never both take a username.
func (s *Service) insertUser(ctx context.Context, m Meta, actor string, u *domain.User) error {
	return s.commit(ctx, func(now time.Time) ([]domain.Pending, error) {
		holder, claimSeq := s.view.UsernameClaim(u.Username)
		if holder != "" {
			return nil, domain.ErrUsernameExists
		}
		return []domain.Pending{
			{Expected: claimSeq, Event: s.event(m, actor, domain.KindUsernameClaimed,
				domain.UsernameOwner(u.Username), now, domain.EventData{Username: u.Username, UserID: u.ID})},
			{Expected: 0, Event: s.event(m, actor, domain.KindUserCreated,
				domain.UserOwner(u.ID), now, domain.EventData{User: u})},
		}, nil
	})
}

// CreateUser creates a regular user (POST /zato/sso/user, docs/API.md#create-user). The
// caller must be a super-user. It returns the new account as a super-user
// sees it.
func (s *Service) CreateUser(ctx context.Context, m Meta, ust string, in NewUser) (map[string]any, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	c, err := s.begin(ctx, ust, m)
	if err != nil {
		return nil, err
	}
	if err := requireSuper(c); err != nil {
		return nil, err
	}
	u, _, err := s.buildUser(ctx, in, s.clock(), c.User.ID, m)
	if err != nil {
		return nil, err
	}
	if err := s.insertUser(ctx, m, c.User.ID, u); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "user created", slog.String("user_id", u.ID), slog.String("by", c.User.ID))
	return s.UserFields(u, true)
}

// CreateSuperUser creates an approved, confirmed super-user, as the CLI
// does. It returns domain.ErrUsernameExists if the username is taken.
func (s *Service) CreateSuperUser(ctx context.Context, m Meta, username, password string, email *string) (*domain.User, error) {
	if err := s.Sync(ctx); err != nil {
		return nil, err
	}
	u, _, err := s.buildUser(ctx, NewUser{Username: username, Password: &password, Email: email, AutoApprove: true}, s.clock(), domain.ModByAuto, m)
	if err != nil {
		return nil, err
	}
	u.IsSuperUser = true
	if err := s.insertUser(ctx, m, ActorCLI, u); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "super-user created", slog.String("user_id", u.ID), slog.String("username", username))
	return u, nil
}

// Bootstrap creates the super-user "admin" when the stream holds no
// super-user at all. It returns the password it set and true when it created
// the account. password may be empty for a random one.
func (s *Service) Bootstrap(ctx context.Context, password string) (string, bool, error) {
	if err := s.Sync(ctx); err != nil {
		return "", false, err
	}
	if s.view.HasSuperUser() {
		return "", false, nil
	}
	if password == "" {
		password = randomPassword()
	}
	_, err := s.CreateSuperUser(ctx, Meta{App: "ssoattr", CID: "bootstrap"}, "admin", password, nil)
	if errors.Is(err, domain.ErrUsernameExists) {
		return "", false, nil // another replica bootstrapped first, or admin exists as a regular user
	}
	if err != nil {
		return "", false, err
	}
	return password, true, nil
}

// changeUser appends a new state of the user with that id, decided by
// change on a clone of the current state.
func (s *Service) changeUser(ctx context.Context, m Meta, actor, id, kind string, change func(u *domain.User, now time.Time) error) error {
	return s.commit(ctx, func(now time.Time) ([]domain.Pending, error) {
		cur, seq, ok := s.view.User(id)
		if !ok {
			return nil, domain.ErrNoSuchUser
		}
		u := cur.Clone()
		if err := change(u, now); err != nil {
			return nil, err
		}
		return []domain.Pending{{Expected: seq,
			Event: s.event(m, actor, kind, domain.UserOwner(id), now, domain.EventData{User: u})}}, nil
	})
}

// superTarget authenticates a super-user and resolves a required user_id
// (approve, reject, lock, delete: docs/API.md#target-user).
func (s *Service) superTarget(ctx context.Context, m Meta, ust, userID string) (*Caller, *domain.User, error) {
	c, err := s.begin(ctx, ust, m)
	if err != nil {
		return nil, nil, err
	}
	if err := requireSuper(c); err != nil {
		return nil, nil, err
	}
	u, _, ok := s.view.User(userID)
	if !ok || userID == "" {
		return nil, nil, domain.ErrNoSuchUser
	}
	return c, u, nil
}

// SetApproval approves (true) or rejects (false) an account (docs/API.md#approve-and-reject).
func (s *Service) SetApproval(ctx context.Context, m Meta, ust, userID string, approve bool) error {
	c, u, err := s.superTarget(ctx, m, ust, userID)
	if err != nil {
		return err
	}
	kind, status := domain.KindUserRejected, domain.ApprovalRejected
	if approve {
		kind, status = domain.KindUserApproved, domain.ApprovalApproved
	}
	return s.changeUser(ctx, m, c.User.ID, u.ID, kind, func(u *domain.User, now time.Time) error {
		u.ApprovalStatus, u.ApprovalStatusModBy, u.ApprovalStatusModTime = status, c.User.ID, now
		return nil
	})
}

// GetUser returns the target user's fields as the caller may see them (docs/API.md#get-user).
func (s *Service) GetUser(ctx context.Context, m Meta, ust, userID string) (map[string]any, error) {
	c, err := s.begin(ctx, ust, m)
	if err != nil {
		return nil, err
	}
	u, err := s.targetUser(c, userID)
	if err != nil {
		return nil, err
	}
	f, err := s.UserFields(u, c.User.IsSuperUser)
	if err != nil || !c.User.IsSuperUser {
		return f, err
	}
	// A super-user also sees the username's login back-off.
	now := s.clock()
	b, err := s.loginBackoff(ctx, u.Username, now)
	if err != nil {
		return nil, err
	}
	f["login_failures"] = b.Failures
	if !b.RefusedUntil.IsZero() {
		f["login_refused_until"] = b.RefusedUntil
	}
	return f, nil
}

// UserFields returns the fields of u that a super-user (super) or the owner
// sees (docs/API.md#user-fields), secrets decrypted, nulls left out.
func (s *Service) UserFields(u *domain.User, super bool) (map[string]any, error) {
	f := map[string]any{
		"user_id": u.ID, "username": u.Username, "is_totp_enabled": u.IsTOTPEnabled, "totp_label": "",
	}
	if u.Email != nil {
		e := *u.Email
		if s.cfg.EncryptEmail {
			var err error
			if e, err = s.keys.DecryptString(e); err != nil {
				return nil, errors.New("decrypt e-mail: " + err.Error())
			}
		}
		f["email"] = e
	}
	if u.TOTPLabel != "" {
		l, err := s.keys.DecryptString(u.TOTPLabel)
		if err != nil {
			return nil, errors.New("decrypt TOTP label: " + err.Error())
		}
		f["totp_label"] = l
	}
	for k, p := range map[string]*string{"display_name": u.DisplayName, "first_name": u.FirstName,
		"middle_name": u.MiddleName, "last_name": u.LastName} {
		if p != nil {
			f[k] = *p
		}
	}
	if !super {
		return f, nil
	}
	f["is_active"], f["is_internal"], f["is_super_user"] = true, false, u.IsSuperUser
	f["is_approval_needed"] = u.ApprovalStatus != domain.ApprovalApproved
	f["approval_status"] = u.ApprovalStatus
	f["approval_status_mod_time"] = domain.FormatTime(u.ApprovalStatusModTime)
	f["approval_status_mod_by"] = u.ApprovalStatusModBy
	f["is_locked"] = u.IsLocked
	if u.LockedTime != nil {
		f["locked_time"] = domain.FormatTime(*u.LockedTime)
	}
	if u.LockedBy != nil {
		f["locked_by"] = *u.LockedBy
	}
	f["creation_ctx"] = "null"
	if u.CreationCtx != "" {
		f["creation_ctx"] = u.CreationCtx
	}
	f["password_expiry"] = domain.FormatTime(u.PasswordExpiry)
	f["password_last_set"] = domain.FormatTime(u.PasswordLastSet)
	f["password_is_set"], f["password_must_change"] = u.PasswordIsSet, u.PasswordMustChange
	f["sign_up_status"] = u.SignUpStatus
	f["sign_up_time"] = domain.FormatTime(u.SignUpTime)
	return f, nil
}

// Field is one field of an update whose null and absent mean different
// things (docs/API.md#update-user): Sent reports that the key was present, Null that its
// value was JSON null; otherwise Value holds it.
type Field[T any] struct {
	Sent  bool
	Null  bool
	Value T
}

// Set returns a Field sent with v.
func Set[T any](v T) Field[T] { return Field[T]{Sent: true, Value: v} }

// UserUpdate is the input of PATCH /zato/sso/user (docs/API.md#update-user). The HTTP layer
// turns a null sent for IsLocked, PasswordExpiry or PasswordMustChange into
// an absent field, as the table says.
type UserUpdate struct {
	Username      Field[string]
	Email         Field[string]
	DisplayName   Field[string]
	FirstName     Field[string]
	MiddleName    Field[string]
	LastName      Field[string]
	IsTOTPEnabled Field[bool]
	TOTPLabel     Field[string]

	// Super-user only.
	IsLocked           Field[bool]
	PasswordExpiry     Field[time.Time]
	PasswordMustChange Field[bool]
	SignUpStatus       Field[string]
	ApprovalStatus     Field[string]
}

func (up *UserUpdate) superOnly() bool {
	return up.IsLocked.Sent || up.PasswordExpiry.Sent || up.PasswordMustChange.Sent ||
		up.SignUpStatus.Sent || up.ApprovalStatus.Sent
}

// changed returns the names of the fields sent, for the event's record.
func (up *UserUpdate) changed() []string {
	var out []string
	for _, f := range []struct {
		name string
		sent bool
	}{{"username", up.Username.Sent}, {"email", up.Email.Sent}, {"display_name", up.DisplayName.Sent},
		{"first_name", up.FirstName.Sent}, {"middle_name", up.MiddleName.Sent}, {"last_name", up.LastName.Sent},
		{"is_totp_enabled", up.IsTOTPEnabled.Sent}, {"totp_label", up.TOTPLabel.Sent},
		{"is_locked", up.IsLocked.Sent}, {"password_expiry", up.PasswordExpiry.Sent},
		{"password_must_change", up.PasswordMustChange.Sent}, {"sign_up_status", up.SignUpStatus.Sent},
		{"approval_status", up.ApprovalStatus.Sent}} {
		if f.sent {
			out = append(out, f.name)
		}
	}
	return out
}

// check is the input step of docs/API.md#processing-order (step 5) for an update: something to
// change (domain.ErrMissingInput), and values of the right form
// (domain.ErrInvalidInput).
func (up *UserUpdate) check() error {
	if len(up.changed()) == 0 {
		return domain.ErrMissingInput
	}
	if up.Username.Sent && (up.Username.Null || !domain.ValidUsername(up.Username.Value)) {
		return domain.ErrInvalidInput
	}
	if up.IsTOTPEnabled.Sent && up.IsTOTPEnabled.Null { // docs/API.md#d22
		return domain.ErrInvalidInput
	}
	if f := up.SignUpStatus; f.Sent && (f.Null || !domain.ValidSignupStatus(f.Value)) {
		return domain.ErrInvalidInput
	}
	if f := up.ApprovalStatus; f.Sent && (f.Null || !domain.ValidApprovalStatus(f.Value)) {
		return domain.ErrInvalidInput
	}
	return nil
}

func nullable(f Field[string], dst **string) {
	switch {
	case !f.Sent:
	case f.Null:
		*dst = nil
	default:
		v := f.Value
		*dst = &v
	}
}

// applyUpdate writes the update on u, a clone of the stored account. by is the
// caller's user id.
func (s *Service) applyUpdate(up *UserUpdate, u *domain.User, by string, now time.Time) {
	if up.Username.Sent {
		u.Username = up.Username.Value
	}
	if up.Email.Sent {
		u.Email = nil
		if !up.Email.Null {
			e := s.storeEmail(up.Email.Value)
			u.Email = &e
		}
	}
	// The search matches names case-insensitively against these fields
	// themselves, so clearing one clears its "search copy" too (docs/API.md#d22).
	nullable(up.DisplayName, &u.DisplayName)
	nullable(up.FirstName, &u.FirstName)
	nullable(up.MiddleName, &u.MiddleName)
	nullable(up.LastName, &u.LastName)
	if up.IsTOTPEnabled.Sent {
		u.IsTOTPEnabled = up.IsTOTPEnabled.Value
	}
	if up.TOTPLabel.Sent {
		u.TOTPLabel = "" // the default label
		if !up.TOTPLabel.Null && up.TOTPLabel.Value != "" {
			u.TOTPLabel = s.keys.EncryptString(up.TOTPLabel.Value) // docs/API.md#d22
		}
	}
	if up.IsLocked.Sent {
		u.IsLocked, u.LockedTime, u.LockedBy = up.IsLocked.Value, &now, &by
	}
	if up.PasswordExpiry.Sent {
		u.PasswordExpiry = up.PasswordExpiry.Value
	}
	if up.PasswordMustChange.Sent {
		u.PasswordMustChange = up.PasswordMustChange.Value
	}
	if up.SignUpStatus.Sent {
		u.SignUpStatus = up.SignUpStatus.Value
	}
	if up.ApprovalStatus.Sent {
		u.ApprovalStatus, u.ApprovalStatusModBy, u.ApprovalStatusModTime = up.ApprovalStatus.Value, by, now
	}
}

// UpdateUser is PATCH /zato/sso/user (docs/API.md#update-user): the caller's own account,
// or, for a super-user, the one userID names. An absent field is left as
// it is; a null one is set to null. It returns domain.ErrMissingInput when
// nothing is to be changed, domain.ErrInvalidInput for a bad value or a
// super-user-only field sent by a regular user, domain.ErrUsernameExists when
// the new username is taken, and the TUR errors of docs/API.md#target-user.
//
// A rename is one atomic batch: the claim of the new username, the new
// account, the release of the old username. Two writers renaming to the same
// name cannot both win, whichever replica they run on.
func (s *Service) UpdateUser(ctx context.Context, m Meta, ust, userID string, up UserUpdate) error {
	if err := up.check(); err != nil {
		return err
	}
	c, err := s.begin(ctx, ust, m)
	if err != nil {
		return err
	}
	target, err := s.targetUser(c, userID)
	if err != nil {
		return err
	}
	if !c.User.IsSuperUser && up.superOnly() {
		return domain.ErrInvalidInput
	}
	changed := up.changed()
	return s.commit(ctx, func(now time.Time) ([]domain.Pending, error) {
		cur, seq, ok := s.view.User(target.ID)
		if !ok {
			return nil, domain.ErrNoSuchUser
		}
		u := cur.Clone()
		s.applyUpdate(&up, u, c.User.ID, now)
		updated := domain.Pending{Expected: seq, Event: s.event(m, c.User.ID, domain.KindUserUpdated,
			domain.UserOwner(u.ID), now, domain.EventData{User: u, Changed: changed})}
		if u.Username == cur.Username {
			return []domain.Pending{updated}, nil
		}
		holder, claimSeq := s.view.UsernameClaim(u.Username)
		if holder != "" && holder != u.ID {
			return nil, domain.ErrUsernameExists
		}
		ps := []domain.Pending{
			{Expected: claimSeq, Event: s.event(m, c.User.ID, domain.KindUsernameClaimed,
				domain.UsernameOwner(u.Username), now, domain.EventData{Username: u.Username, UserID: u.ID})},
			updated,
		}
		if holder, oldSeq := s.view.UsernameClaim(cur.Username); holder == u.ID {
			ps = append(ps, domain.Pending{Expected: oldSeq, Event: s.event(m, c.User.ID, domain.KindUsernameReleased,
				domain.UsernameOwner(cur.Username), now, domain.EventData{Username: cur.Username, UserID: u.ID})})
		}
		return ps, nil
	})
}

// DeleteUser is DELETE /zato/sso/user (docs/API.md#delete-user): a super-user deletes
// another account with its sessions, user attributes and session
// attributes. It returns domain.ErrNotAllowed for a regular caller,
// domain.ErrNoSuchUser for an unknown user (docs/API.md#d23) and
// domain.ErrInvalidOperation when the caller names themselves.
func (s *Service) DeleteUser(ctx context.Context, m Meta, ust, userID string) error {
	c, u, err := s.superTarget(ctx, m, ust, userID)
	if err != nil {
		return err
	}
	if u.ID == c.User.ID {
		return domain.ErrInvalidOperation
	}
	return s.deleteUser(ctx, m, c.User.ID, u.ID)
}

// removal is an attribute set that ends with its owner.
type removal struct {
	owner domain.Owner
	seq   uint64
	names []string
}

// removals returns the user's attribute sets that hold live attributes: the
// user's own and those of each live session.
func (s *Service) removals(userID string) []removal {
	owners := []domain.Owner{domain.UserAttrsOwner(userID)}
	for _, sess := range s.view.UserSessions(userID) {
		owners = append(owners, domain.SessionAttrsOwner(userID, sess.ID))
	}
	var out []removal
	for _, o := range owners {
		if names := s.view.Names(o); len(names) > 0 {
			out = append(out, removal{owner: o, seq: s.view.OwnerSeq(o), names: names})
		}
	}
	return out
}

// deleteUser appends user.deleted and the release of the username as one
// atomic batch; the view drops the user's sessions and attributes with it.
// Then, like endSession, it records attr.removed on each attribute set that
// had attributes: the record subscribers see, not needed for correctness,
// so a failure there is logged, not returned.
func (s *Service) deleteUser(ctx context.Context, m Meta, actor, id string) error {
	var gone []removal
	err := s.commit(ctx, func(now time.Time) ([]domain.Pending, error) {
		cur, seq, ok := s.view.User(id)
		if !ok {
			return nil, domain.ErrNoSuchUser
		}
		gone = s.removals(id)
		ps := []domain.Pending{{Expected: seq, Event: s.event(m, actor, domain.KindUserDeleted,
			domain.UserOwner(id), now, domain.EventData{Reason: domain.ReasonUserDeleted})}}
		if holder, claimSeq := s.view.UsernameClaim(cur.Username); holder == id {
			ps = append(ps, domain.Pending{Expected: claimSeq, Event: s.event(m, actor, domain.KindUsernameReleased,
				domain.UsernameOwner(cur.Username), now, domain.EventData{Username: cur.Username, UserID: id})})
		}
		return ps, nil
	})
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "user deleted", slog.String("user_id", id), slog.String("by", actor))
	s.recordRemovals(ctx, m, actor, gone, domain.ReasonUserDeleted)
	return nil
}

// recordRemovals appends attr.removed for each attribute set, logging
// (not returning) failures.
func (s *Service) recordRemovals(ctx context.Context, m Meta, actor string, gone []removal, reason string) {
	for _, r := range gone {
		ev := s.event(m, actor, domain.KindAttrRemoved, r.owner, s.clock(), domain.EventData{Names: r.names, Reason: reason})
		if _, err := s.store.AppendAll(ctx, []domain.Pending{{Event: ev, Expected: r.seq}}); err != nil {
			s.log.WarnContext(ctx, "attributes removal event not written",
				slog.String("owner", r.owner.String()), slog.Any("err", err))
		}
	}
}

// SetLocked is POST (lock) and DELETE (unlock) /zato/sso/user/lock (docs/API.md#lock-and-unlock). Both record the caller in locked_by and the time in locked_time. It
// returns domain.ErrNotAllowed for a regular caller and domain.ErrNoSuchUser
// for an unknown user (docs/API.md#d24).
func (s *Service) SetLocked(ctx context.Context, m Meta, ust, userID string, locked bool) error {
	c, u, err := s.superTarget(ctx, m, ust, userID)
	if err != nil {
		return err
	}
	return s.setLocked(ctx, m, c.User.ID, u.ID, locked)
}

func (s *Service) setLocked(ctx context.Context, m Meta, by, id string, locked bool) error {
	kind := domain.KindUserUnlocked
	if locked {
		kind = domain.KindUserLocked
	}
	return s.changeUser(ctx, m, by, id, kind, func(u *domain.User, now time.Time) error {
		u.IsLocked, u.LockedTime, u.LockedBy = locked, &now, &by
		return nil
	})
}
