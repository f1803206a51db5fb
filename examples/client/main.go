// Command client shows the Go client package from a small program: the
// steps of Zato's UserAttr.set and set_many usage examples, then reading
// the attributes back, their history, and cleaning up.
//
//	SSOATTR_PASSWORD=… go run ./examples/client --url http://127.0.0.1:17010 --user admin
//
// The password comes from the environment, not the command line, where
// other users of the machine could read it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"slices"
	"time"

	"github.com/ssoattr/ssoattr/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv("SSOATTR_PASSWORD"), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, args []string, password string, out io.Writer) error {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(out)
	url := fs.String("url", "http://127.0.0.1:17010", "the service's base URL")
	username := fs.String("user", "admin", "the user to log in as (password: $SSOATTR_PASSWORD)")
	app := fs.String("app", client.DefaultApp, "current_app")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if password == "" {
		return errors.New("set SSOATTR_PASSWORD to the user's password")
	}
	c, err := client.New(*url, client.WithApp(*app))
	if err != nil {
		return err
	}

	// session = self.sso.user.login(cid, username, password, current_app, ...)
	s, err := c.Login(ctx, *username, password, nil)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	defer s.Logout(context.WithoutCancel(ctx))
	if len(s.Warnings) > 0 {
		fmt.Fprintln(out, "logged in, with warnings", s.Warnings)
	}
	user := s.User // user = self.sso.user.get_current_user(...)

	// user.attr.set(name, value)
	if err := user.Attr.Set(ctx, "my-attribute", "my-value", nil); err != nil {
		return fmt.Errorf("set: %w", err)
	}
	// user.attr.set_many(data)
	err = user.Attr.SetMany(ctx, []client.Item{
		{Name: "my-attr1", Value: "my-value1"},
		{Name: "my-attr2", Value: "my-value2", Encrypt: new(true)},
		{Name: "my-attr3", Value: "my-value3", Expiration: new(3600 * time.Second)},
	}, nil)
	if err != nil {
		return fmt.Errorf("set_many: %w", err)
	}

	// user.attr.get_many(data)
	names := []string{"my-attribute", "my-attr1", "my-attr2", "my-attr3"}
	attrs, err := user.Attr.GetMany(ctx, names, nil)
	if err != nil {
		return fmt.Errorf("get_many: %w", err)
	}
	for _, n := range names {
		a := attrs[n]
		if a == nil {
			fmt.Fprintf(out, "%-12s not found\n", n)
			continue
		}
		exp := "never"
		if !a.ExpirationTime.Equal(client.Never) {
			exp = a.ExpirationTime.Sub(a.LastModified).String()
		}
		fmt.Fprintf(out, "%-12s %s encrypted=%v expires=%s\n", n, a.Value, a.IsEncrypted, exp)
	}

	// user.attr.create(name, value) of a name that exists fails with E009001.
	err = user.Attr.Create(ctx, "my-attribute", "other", nil)
	var ce *client.Error
	if errors.As(err, &ce) {
		fmt.Fprintf(out, "create again: HTTP %d %v (attribute exists: %v)\n", ce.Status, ce.Codes,
			errors.Is(err, client.ErrAttrExists))
	}

	// Not in Zato: every change, kept by the service.
	for ch, err := range user.Attr.HistoryAll(ctx, &client.HistoryOptions{Name: "my-attribute"}) {
		if err != nil {
			return fmt.Errorf("history: %w", err)
		}
		fmt.Fprintf(out, "history: %s %s at %s\n", ch.Type, ch.Name, ch.Time.Format(time.RFC3339))
	}

	// user.attr.delete_many(data), then user.attr.names()
	if err := user.Attr.DeleteMany(ctx, names); err != nil {
		return fmt.Errorf("delete_many: %w", err)
	}
	left, err := user.Attr.Names(ctx, nil)
	if err != nil {
		return fmt.Errorf("names: %w", err)
	}
	ours := 0
	for _, n := range left {
		if slices.Contains(names, n) {
			ours++
		}
	}
	fmt.Fprintf(out, "deleted; %d of them left\n", ours)
	return nil
}
