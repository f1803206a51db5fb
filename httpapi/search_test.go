package httpapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ssoattr/ssoattr/internal/node/nodetest"
	"github.com/ssoattr/ssoattr/sso"
)

// seUsernames returns the usernames of a search result, in order.
func seUsernames(r nodetest.Response) []string {
	l, _ := r.Body["result"].([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		m, _ := e.(map[string]any)
		s, _ := m["username"].(string)
		out = append(out, s)
	}
	return out
}

func TestSearch(t *testing.T) {
	inst := nodetest.Start(t)
	sUST, sID := inst.SuperUser("se-root")
	aUST, aID := inst.User(sUST, "se-alice")
	create := func(name string, kv ...any) string {
		t.Helper()
		r := inst.Do("POST", "/zato/sso/user", apiReq(sUST, append([]any{"username", name}, kv...)...))
		lcWant(t, "create "+name, r, "")
		return r.Body["user_id"].(string)
	}
	create("se-u1", "first_name", "Anna", "last_name", "Smith", "auto_approve", true) // display "Anna Smith"
	create("se-u2", "first_name", "Annabel", "last_name", "Jones")                    // display "Annabel Jones"
	create("se-u3", "display_name", "zed", "first_name", "Bob", "last_name", "Smith", "auto_approve", true)
	create("se-u4", "display_name", "Anna Smith", "sign_up_status", "before_confirmation", "auto_approve", true)
	search := func(kv ...any) nodetest.Response {
		t.Helper()
		r := inst.Do("GET", "/zato/sso/user/search", apiReq(sUST, kv...))
		lcWant(t, "search", r, "")
		return r
	}
	want := func(t *testing.T, what string, r nodetest.Response, names ...string) {
		t.Helper()
		if got := seUsernames(r); !slices.Equal(got, names) {
			t.Fatalf("%s = %v, want %v", what, got, names)
		}
		if r.Body["total"] != float64(len(names)) {
			t.Fatalf("%s total = %v, want %d", what, r.Body["total"], len(names))
		}
	}

	t.Run("permissions", func(t *testing.T) {
		lcWant(t, "regular user", inst.Do("GET", "/zato/sso/user/search", apiReq(aUST)), "E005001")
		lcWant(t, "bad token", inst.Do("GET", "/zato/sso/user/search", apiReq("gAAAAAnonsense")), "E007001")
	})

	t.Run("no_criteria_matches_all_in_order", func(t *testing.T) {
		// display_name (none first), then username: se-alice, se-root have
		// no display name; "Anna Smith" ×2 by username; "Annabel Jones"; "zed".
		want(t, "all", search(), "se-alice", "se-root", "se-u1", "se-u4", "se-u2", "se-u3")
	})

	t.Run("user_id_or_username_alone", func(t *testing.T) {
		want(t, "user_id", search("user_id", aID, "username", "se-u1", "first_name", "Bob"), "se-alice")
		want(t, "username", search("username", "se-u3", "first_name", "Anna"), "se-u3")
		want(t, "unknown username", search("username", "se-nobody"))
	})

	t.Run("names", func(t *testing.T) {
		want(t, "display_name exact, any case", search("display_name", "anna SMITH"), "se-u1", "se-u4")
		want(t, "first_name exact", search("first_name", "Anna"), "se-u1")
		want(t, "first_name substring", search("first_name", "ann", "is_name_exact", false), "se-u1", "se-u2")
		want(t, "and", search("first_name", "anna", "last_name", "smith"), "se-u1")
		want(t, "or", search("first_name", "bob", "last_name", "jones", "name_op", "or"), "se-u2", "se-u3")
		want(t, "names AND others", search("display_name", "Anna Smith", "sign_up_status", "before_confirmation"), "se-u4")
		want(t, "approval_status", search("approval_status", "before_decision"), "se-u2")
		lcWant(t, "blank name criterion", inst.Do("GET", "/zato/sso/user/search", apiReq(sUST, "last_name", "  ")), "E008002")
		lcWant(t, "bad name_op", inst.Do("GET", "/zato/sso/user/search", apiReq(sUST, "first_name", "x", "name_op", "xor")), "E008002")
		lcWant(t, "e-mail while encrypted (API.md#d31)", inst.Do("GET", "/zato/sso/user/search", apiReq(sUST, "email", "a@example.com")), "E008002")
	})

	t.Run("pagination", func(t *testing.T) {
		r := search("page_size", 2, "cur_page", 2)
		if got := seUsernames(r); !slices.Equal(got, []string{"se-u1", "se-u4"}) {
			t.Fatalf("page 2 = %v, want [se-u1 se-u4]", got)
		}
		for k, v := range map[string]any{"total": float64(6), "num_pages": float64(3), "page_size": float64(2),
			"cur_page": float64(2), "prev_page": float64(1), "next_page": float64(3),
			"has_prev_page": true, "has_next_page": true} {
			if r.Body[k] != v {
				t.Fatalf("page 2: %s = %v, want %v (%s)", k, r.Body[k], v, r.Raw)
			}
		}
		r = inst.Query("GET", "/zato/sso/user/search", map[string]string{"ust": sUST, "current_app": "CRM",
			"page_size": "2", "cur_page": "3"})
		if got := seUsernames(r); !slices.Equal(got, []string{"se-u2", "se-u3"}) || r.Body["next_page"] != nil ||
			r.Body["has_next_page"] != false || r.Body["prev_page"] != float64(2) {
			t.Fatalf("last page = %s, want se-u2 se-u3 with no next_page", r.Raw)
		}
		r = search("page_size", 0, "cur_page", 0)
		if r.Body["page_size"] != float64(50) || r.Body["cur_page"] != float64(1) || r.Body["prev_page"] != float64(0) ||
			r.Body["has_prev_page"] != false || r.Body["num_pages"] != float64(1) {
			t.Fatalf("page_size 0, cur_page 0 = %s, want the default size 50, page 1", r.Raw)
		}
		if r = search("page_size", 1000); r.Body["page_size"] != float64(100) {
			t.Fatalf("page_size 1000 = %v, want the maximum 100", r.Body["page_size"])
		}
		r = search("page_size", 2, "paginate", false)
		if len(seUsernames(r)) != 6 || r.Body["num_pages"] != float64(1) {
			t.Fatalf("paginate false = %s, want every match on one page", r.Raw)
		}
		r = search("username", "se-nobody")
		if r.Body["num_pages"] != float64(0) || r.Body["has_next_page"] != false {
			t.Fatalf("no match = %s, want num_pages 0", r.Raw)
		}
		lcWant(t, "cur_page not an int", inst.Do("GET", "/zato/sso/user/search", apiReq(sUST, "cur_page", "two")), "E008002")
	})

	t.Run("items_have_exactly_the_super_user_field_set_D31", func(t *testing.T) {
		lcWant(t, "label", inst.Do("PATCH", "/zato/sso/user/totp", apiReq(sUST, "totp_label", "root phone")), "")
		r := search("user_id", sID)
		item := r.Body["result"].([]any)[0].(map[string]any)
		got := make([]string, 0, len(item))
		for k := range item {
			got = append(got, k)
		}
		slices.Sort(got)
		wantKeys := []string{"approval_status", "approval_status_mod_by", "approval_status_mod_time", "creation_ctx",
			"is_active", "is_approval_needed", "is_internal", "is_locked", "is_super_user", "is_totp_enabled",
			"password_expiry", "password_is_set", "password_last_set", "password_must_change", "sign_up_status",
			"sign_up_time", "totp_label", "user_id", "username"}
		if !slices.Equal(got, wantKeys) {
			t.Fatalf("item keys = %v, want %v", got, wantKeys)
		}
		if item["totp_label"] != "root phone" {
			t.Fatalf("totp_label = %v, want the plaintext label", item["totp_label"])
		}
		if strings.Contains(string(r.Raw), "gAAAAA") {
			t.Fatalf("search answer holds ciphertext: %s", r.Raw)
		}
	})
}

func TestSearch_ByEmailWhenStoredInPlaintext(t *testing.T) {
	inst := nodetest.Start(t, nodetest.WithConfig(func(c *sso.Config) { c.EncryptEmail = false }))
	sUST, _ := inst.SuperUser("sem-root")
	for _, u := range []struct{ name, email string }{{"sem-a", "a@example.com"}, {"sem-b", "b@example.com"}} {
		lcWant(t, "create", inst.Do("POST", "/zato/sso/user", apiReq(sUST, "username", u.name, "email", u.email)), "")
	}
	r := inst.Do("GET", "/zato/sso/user/search", apiReq(sUST, "email", "b@example.com"))
	lcWant(t, "search by e-mail", r, "")
	if got := seUsernames(r); !slices.Equal(got, []string{"sem-b"}) {
		t.Fatalf("search by e-mail = %v, want [sem-b]", got)
	}
}
