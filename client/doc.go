// Package client is a Go client for the ssoattr REST API (Zato's
// /zato/sso/... endpoints), shaped after Zato's Python SSO API so that a
// Zato user recognises it:
//
//	Python (inside a Zato service)                 Go
//	session = self.sso.user.login(cid, u, p, app…) s, err := c.Login(ctx, u, p, nil)
//	user = self.sso.user.get_current_user(…)       user := s.User
//	user.attr.set('theme', 'dark', expiration=60)  user.Attr.Set(ctx, "theme", "dark", &client.WriteOptions{Expiration: new(time.Minute)})
//	user.attr.get('theme')                         a, err := user.Attr.Get(ctx, "theme", nil)
//	session = self.sso.user.session.get(cid, t, …) s.SessionByUST(t).Attr (s.Attr: the caller's own session)
//	self.sso.user.logout(cid, ust, app, addr)      s.Logout(ctx)
//
// README.md ("Coming from Zato") maps every call to its REST request.
//
// A [Client] holds the base URL, the application name sent as current_app
// and the [net/http.Client]; it is safe for concurrent use. [Client.Login]
// (or [Client.Session], for a token obtained elsewhere) gives a [Session]
// whose User.Attr are the user's attributes and whose Attr are the
// session's own attributes. Both are an [Attrs], with the methods of
// Zato's UserAttr and SessionAttr: Create, Set, Update, Get, Exists, Delete
// and their Many forms, Names, and History, which Zato does not have. Every
// call takes a context; reads take [ReadOptions] (AsOf, to read as the
// service would have answered at a past moment), writes [WriteOptions]
// (Expiration, Encrypt). Every input is sent in a JSON body, never in the
// URL, so tokens and values stay out of proxy and server access logs.
//
// An error the service answers is an [*Error] with the HTTP status, the
// sub_status codes and the request's correlation id (cid), which matches
// the service's log line. It matches the [Code] sentinels with [errors.Is]:
//
//	if errors.Is(err, client.ErrAttrExists) { … }   // E009001
//
// [IsRetryable] reports the answers after which the same request may be
// sent again (HTTP 503 [ErrUnavailable] and [ErrBusy], after
// [Error.RetryAfter]); after [ErrOutcomeUnknown] a write may have been
// stored, so read back before sending it again.
//
// Error strings never contain tokens, passwords or attribute values.
//
// The package imports only the standard library. The API it calls is
// described in the repository's docs/API.md.
package client
