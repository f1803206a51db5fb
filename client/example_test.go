package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/ssoattr/ssoattr/client"
)

// A Zato service's user.attr.set(name, value), get and create, from Go.
// serverURL is the service's address, such as "http://127.0.0.1:17010".
func Example() {
	ctx := context.Background()
	c, err := client.New(serverURL)
	if err != nil {
		log.Fatal(err)
	}
	s, err := c.Login(ctx, "admin", adminPassword, nil) // self.sso.user.login(...)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Logout(ctx)

	user := s.User
	if err := user.Attr.Set(ctx, "ui.theme", "dark", nil); err != nil { // user.attr.set('ui.theme', 'dark')
		log.Fatal(err)
	}
	a, err := user.Attr.Get(ctx, "ui.theme", nil) // user.attr.get('ui.theme')
	if err != nil {
		log.Fatal(err)
	}
	var theme string
	if err := a.Decode(&theme); err != nil {
		log.Fatal(err)
	}
	fmt.Println(theme, a.ExpirationTime.Equal(client.Never))

	err = user.Attr.Create(ctx, "ui.theme", "light", nil) // raises in Python: the name exists
	fmt.Println(errors.Is(err, client.ErrAttrExists))

	if err := user.Attr.Delete(ctx, "ui.theme"); err != nil {
		log.Fatal(err)
	}
	// Output:
	// dark true
	// true
}

// set_many with per-item overrides of the call's expiration and encrypt.
func ExampleAttrs_SetMany() {
	ctx := context.Background()
	c, _ := client.New(serverURL)
	s, err := c.Login(ctx, "admin", adminPassword, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Logout(ctx)

	// Session attributes: they end with the session (its Logout above).
	err = s.Attr.SetMany(ctx, []client.Item{
		{Name: "my-attr1", Value: "my-value1"},
		{Name: "my-attr2", Value: "my-value2", Encrypt: new(true)},
		{Name: "my-attr3", Value: "my-value3", Expiration: new(time.Hour)},
	}, &client.WriteOptions{Expiration: new(10 * time.Minute)})
	if err != nil {
		log.Fatal(err)
	}
	got, err := s.Attr.GetMany(ctx, []string{"my-attr2", "my-attr3", "my-attr4"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(got["my-attr2"].Value), got["my-attr2"].IsEncrypted)
	a3 := got["my-attr3"]
	fmt.Println(a3.ExpirationTime.Sub(a3.LastModified))
	fmt.Println(got["my-attr4"] == nil)
	// Output:
	// "my-value2" true
	// 1h0m0s
	// true
}

// Reading as the service would have answered at an earlier moment.
func ExampleReadOptions_asOf() {
	ctx := context.Background()
	c, _ := client.New(serverURL)
	s, err := c.Login(ctx, "admin", adminPassword, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Logout(ctx)

	_ = s.Attr.Set(ctx, "plan", "basic", nil)
	before := time.Now()
	_ = s.Attr.Set(ctx, "plan", "premium", nil)

	then, err := s.Attr.Get(ctx, "plan", &client.ReadOptions{AsOf: before})
	if err != nil {
		log.Fatal(err)
	}
	now, err := s.Attr.Get(ctx, "plan", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(then.Value), string(now.Value))
	// Output: "basic" "premium"
}

// The codes of a failed call, and its correlation id for the service's log.
func ExampleError() {
	ctx := context.Background()
	c, _ := client.New(serverURL)
	s := c.Session("a-token-that-is-not-live")
	_, err := s.User.Attr.Names(ctx, nil)

	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Codes, len(e.CID))
	}
	fmt.Println(errors.Is(err, client.ErrNoSuchSession))
	// Output:
	// 403 [E007001] 24
	// true
}

// Every change of one attribute, page after page.
func ExampleAttrs_HistoryAll() {
	ctx := context.Background()
	c, _ := client.New(serverURL)
	s, err := c.Login(ctx, "admin", adminPassword, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Logout(ctx)

	_ = s.Attr.Create(ctx, "wizard.step", 1, nil)
	_ = s.Attr.Update(ctx, "wizard.step", 2, nil)
	_ = s.Attr.Delete(ctx, "wizard.step")
	for ch, err := range s.Attr.HistoryAll(ctx, &client.HistoryOptions{Name: "wizard.step"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ch.Type, string(ch.Value))
	}
	// Output:
	// created 1
	// updated 2
	// deleted
}
