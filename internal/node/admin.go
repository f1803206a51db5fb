package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ssoattr/ssoattr/domain"
	"github.com/ssoattr/ssoattr/sso"
)

// AdminSubject is the prefix of the admin commands' NATS subjects:
// ssoattr.admin.<command>. It is outside the stream's subjects. Only the
// admin role may publish there, and only the caller's role may read the
// reply (its own inbox), which may carry a password or a UST: the NATS
// permissions are the admin commands' credential (see Permissions).
const AdminSubject = "ssoattr.admin."

// AdminRequest is the input of an admin command; each command reads the
// fields it needs.
type AdminRequest struct {
	Username string  `json:"username,omitempty"`
	Password string  `json:"password,omitempty"`
	Email    *string `json:"email,omitempty"`
	Key      string  `json:"key,omitempty"`

	// create-user.
	DisplayName *string `json:"display_name,omitempty"`
	FirstName   *string `json:"first_name,omitempty"`
	MiddleName  *string `json:"middle_name,omitempty"`
	LastName    *string `json:"last_name,omitempty"`
	// change-user-password, reset-user-password: expiry in days (0: the
	// configured default) and the must-change flag (nil: unchanged).
	ExpiryDays int64 `json:"expiry_days,omitempty"`
	MustChange *bool `json:"must_change,omitempty"`
	// delete-user is refused unless Confirm is set (the CLI's --yes).
	Confirm bool `json:"confirm,omitempty"`
	// logout.
	UST string `json:"ust,omitempty"`
}

// AdminReply is the answer to an admin command. Error is a message for a
// person; Code is the status code behind it (docs/API.md#error-codes), when there is one.
type AdminReply struct {
	Error  string `json:"error,omitempty"`
	Code   string `json:"code,omitempty"`
	UserID string `json:"user_id,omitempty"`
	Key    string `json:"key,omitempty"`
	// Password is a password the service generated (create-user without
	// one, reset-user-password).
	Password string `json:"password,omitempty"`
	// UST is the token of the session login opened.
	UST string `json:"ust,omitempty"`
}

func serveAdmin(nc *nats.Conn, svc *sso.Service, log *slog.Logger) (*nats.Subscription, error) {
	sub, err := nc.QueueSubscribe(AdminSubject+"*", "ssoattr-admin", func(msg *nats.Msg) {
		if msg.Reply == "" || strings.HasPrefix(msg.Reply, "$JS.") {
			// Not a request: perhaps a JetStream consumer someone pointed
			// at this subject. Nothing runs that nobody asked for.
			return
		}
		cmd := strings.TrimPrefix(msg.Subject, AdminSubject)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		reply := runAdmin(ctx, svc, cmd, msg.Data)
		if reply.Error != "" {
			log.Info("admin command refused", slog.String("command", cmd), slog.String("error", reply.Error))
		} else {
			log.Info("admin command done", slog.String("command", cmd))
		}
		data, _ := json.Marshal(reply)
		_ = msg.Respond(data)
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe admin commands: %w", err)
	}
	// The subscription travels to the server asynchronously; flush so that a
	// command sent the moment Start returns finds a responder.
	if err := nc.Flush(); err != nil {
		return nil, fmt.Errorf("subscribe admin commands: %w", err)
	}
	return sub, nil
}

func runAdmin(ctx context.Context, svc *sso.Service, cmd string, data []byte) AdminReply {
	var req AdminRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return AdminReply{Error: "malformed request"}
	}
	m := sso.Meta{App: "ssoattr-cli", CID: "cli-" + cmd, UserAgent: "ssoattr-cli"}
	var err error
	switch cmd {
	case "create-user":
		var password *string
		if req.Password != "" {
			password = &req.Password
		}
		u, generated, err := svc.CreateUserByAdmin(ctx, m, sso.NewUser{Username: req.Username, Password: password,
			Email: req.Email, DisplayName: req.DisplayName, FirstName: req.FirstName,
			MiddleName: req.MiddleName, LastName: req.LastName})
		if err != nil {
			return adminError(err)
		}
		return AdminReply{UserID: u.ID, Password: generated}
	case "delete-user":
		if !req.Confirm {
			return AdminReply{Error: "Refusing to delete without confirmation (--yes)"}
		}
		err = svc.DeleteUserByName(ctx, m, req.Username)
	case "lock-user", "unlock-user":
		err = svc.SetLockedByName(ctx, m, req.Username, cmd == "lock-user")
	case "change-user-password":
		err = svc.SetPasswordByName(ctx, m, req.Username, req.Password, req.ExpiryDays, req.MustChange)
	case "reset-user-password":
		password, err := svc.ResetPasswordByName(ctx, m, req.Username, req.ExpiryDays, req.MustChange)
		if err != nil {
			return adminError(err)
		}
		return AdminReply{Password: password}
	case "login":
		ust, err := svc.LoginAs(ctx, m, req.Username)
		if err != nil {
			return adminError(err)
		}
		return AdminReply{UST: ust}
	case "logout":
		err = svc.Logout(ctx, m, req.UST)
	case "create-super-user":
		u, err := svc.CreateSuperUser(ctx, m, req.Username, req.Password, req.Email)
		if err != nil {
			return adminError(err)
		}
		return AdminReply{UserID: u.ID}
	case "reset-totp-key":
		key, err := svc.ResetTOTPKey(ctx, m, req.Username, req.Key)
		if err != nil {
			return adminError(err)
		}
		return AdminReply{Key: key}
	default:
		return AdminReply{Error: fmt.Sprintf("unknown command %q", cmd)}
	}
	if err != nil {
		return adminError(err)
	}
	return AdminReply{}
}

// adminMessages are the words a person reads for the codes admin commands meet.
var adminMessages = map[string]string{
	domain.ErrUsernameExists.Code:     "User already exists",
	domain.ErrUsernameInvalid.Code:    "Invalid username",
	domain.ErrNoSuchUser.Code:         "No such user",
	domain.ErrInvalidInput.Code:       "Invalid input",
	domain.ErrPasswordInvalid.Code:    "Password contains a rejected word",
	domain.ErrPasswordTooShort.Code:   "Password too short",
	domain.ErrPasswordTooLong.Code:    "Password too long",
	domain.ErrPasswordNotComplex.Code: "Password not complex enough",
	domain.ErrNotAllowed.Code:         "Not allowed",
	domain.ErrLocked.Code:             "Account is locked",
	domain.ErrNotConfirmed.Code:       "Sign-up not confirmed",
	domain.ErrNotApproved.Code:        "Account not approved",
	domain.ErrPasswordExpired.Code:    "Password expired",
}

func adminError(err error) AdminReply {
	var ce *domain.CodeError
	if errors.As(err, &ce) {
		msg := adminMessages[ce.Code]
		if msg == "" {
			msg = "Refused (" + ce.Code + ")"
		}
		return AdminReply{Error: msg, Code: ce.Code}
	}
	return AdminReply{Error: "internal error: " + err.Error()}
}

// Admin sends an admin command to a running service and returns its reply.
func Admin(ctx context.Context, nc *nats.Conn, cmd string, req AdminRequest) (AdminReply, error) {
	data, _ := json.Marshal(req)
	msg, err := nc.RequestWithContext(ctx, AdminSubject+cmd, data)
	if errors.Is(err, nats.ErrNoResponders) {
		return AdminReply{}, errors.New("no ssoattr service is running on this NATS")
	}
	if err != nil {
		return AdminReply{}, fmt.Errorf("admin request: %w", err)
	}
	var reply AdminReply
	if err := json.Unmarshal(msg.Data, &reply); err != nil {
		return AdminReply{}, fmt.Errorf("admin reply: %w", err)
	}
	return reply, nil
}
