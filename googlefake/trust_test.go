package googlefake_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials"
	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/moffman/moffman/googlefake"
)

// These tests drive the fake's long-run controls (revoked tokens and keys,
// unsharing, restoring, slow answers) through the official client and raw
// HTTP, as the adapter meets them.

const trustCal = "brno@group.calendar.google.com"

func startTrust(t *testing.T) (*googlefake.Server, *calendar.Service) {
	t.Helper()
	s, err := googlefake.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Listen(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	s.AddCalendar(trustCal, true)
	svc, err := calendar.NewService(t.Context(),
		option.WithEndpoint(s.CalendarEndpoint()),
		option.WithAuthCredentialsJSON(option.ServiceAccount, s.KeyJSON()),
		option.WithScopes(calendar.CalendarScope))
	if err != nil {
		t.Fatal(err)
	}
	return s, svc
}

// freshToken exchanges the fake's key for an access token, uncached.
func freshToken(t *testing.T, s *googlefake.Server) (string, error) {
	t.Helper()
	creds, err := credentials.DetectDefault(&credentials.DetectOptions{
		CredentialsJSON: s.KeyJSON(), Scopes: []string{calendar.CalendarScope}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := creds.Token(t.Context())
	if err != nil {
		return "", err
	}
	return tok.Value, nil
}

// getColors is a raw calendar call with token.
func getColors(t *testing.T, s *googlefake.Server, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.CalendarEndpoint()+"colors", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// wantGoogleError fails unless err is Google's error with that status,
// reason and message.
func wantGoogleError(t *testing.T, err error, code int, reason, message string) {
	t.Helper()
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		t.Fatalf("got %v, want Google's HTTP %d %s", err, code, reason)
	}
	if ge.Code != code || len(ge.Errors) == 0 || ge.Errors[0].Reason != reason || ge.Message != message {
		t.Fatalf("got HTTP %d %+v %q, want %d %s %q", ge.Code, ge.Errors, ge.Message, code, reason, message)
	}
}

func pendingEvent(id string) *calendar.Event {
	return &calendar.Event{Id: id, Summary: "Eva Dvořák - office",
		Start: &calendar.EventDateTime{Date: "2031-05-06"}, End: &calendar.EventDateTime{Date: "2031-05-07"}}
}

func TestTrustRevokeTokens(t *testing.T) {
	t.Parallel()
	s, _ := startTrust(t)
	old, err := freshToken(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if resp := getColors(t, s, old); resp.StatusCode != http.StatusOK {
		t.Fatalf("before revocation: HTTP %d", resp.StatusCode)
	}
	s.RevokeTokens()
	resp := getColors(t, s, old)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked token: HTTP %d, want 401", resp.StatusCode)
	}
	if h := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer ") || !strings.Contains(h, `error="invalid_token"`) {
		t.Errorf("WWW-Authenticate %q", h)
	}
	var body struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Errors  []struct {
				Reason string `json:"reason"`
			} `json:"errors"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Error.Code != 401 || body.Error.Message != "Invalid Credentials" ||
		len(body.Error.Errors) != 1 || body.Error.Errors[0].Reason != "authError" {
		t.Errorf("body %+v", body.Error)
	}

	// A token asked for after the revocation works.
	fresh, err := freshToken(t, s)
	if err != nil {
		t.Fatalf("token after revocation: %v", err)
	}
	if resp := getColors(t, s, fresh); resp.StatusCode != http.StatusOK {
		t.Errorf("fresh token: HTTP %d", resp.StatusCode)
	}
}

func TestTrustKeyRevoked(t *testing.T) {
	t.Parallel()
	s, _ := startTrust(t)
	issued, err := freshToken(t, s)
	if err != nil {
		t.Fatal(err)
	}
	s.SetKeyRevoked(true)
	_, err = freshToken(t, s)
	var ae *auth.Error
	if !errors.As(err, &ae) || ae.Response == nil || ae.Response.StatusCode != http.StatusBadRequest {
		t.Fatalf("token with a revoked key: %v, want HTTP 400 from the token endpoint", err)
	}
	var oauthErr struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(ae.Body, &oauthErr); err != nil || oauthErr.Error != "invalid_grant" || oauthErr.Description != "Invalid JWT Signature." {
		t.Errorf("token endpoint said %s (%v)", ae.Body, err)
	}
	// Tokens issued before stay valid until revoked themselves, as at Google.
	if resp := getColors(t, s, issued); resp.StatusCode != http.StatusOK {
		t.Errorf("token issued before the key was revoked: HTTP %d", resp.StatusCode)
	}

	s.SetKeyRevoked(false)
	if _, err := freshToken(t, s); err != nil {
		t.Errorf("token after the key is accepted again: %v", err)
	}
}

// While unshared every call on the calendar answers 404 notFound, and the
// events stay; shared again, everything works as before.
func TestTrustUnshareShare(t *testing.T) {
	t.Parallel()
	s, svc := startTrust(t)
	const id = "trustunshare01"
	if _, err := svc.Events.Insert(trustCal, pendingEvent(id)).Do(); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CalendarList.Insert(&calendar.CalendarListEntry{Id: trustCal}).Do(); err != nil {
		t.Fatal(err)
	}

	s.Unshare(trustCal)
	calls := map[string]func() error{
		"events.get":    func() error { _, err := svc.Events.Get(trustCal, id).Do(); return err },
		"events.insert": func() error { _, err := svc.Events.Insert(trustCal, pendingEvent("trustunshare02")).Do(); return err },
		"events.list":   func() error { _, err := svc.Events.List(trustCal).Do(); return err },
		"events.patch": func() error {
			_, err := svc.Events.Patch(trustCal, id, &calendar.Event{Summary: "x"}).Do()
			return err
		},
		"events.delete": func() error { return svc.Events.Delete(trustCal, id).Do() },
		"calendarList.insert": func() error {
			_, err := svc.CalendarList.Insert(&calendar.CalendarListEntry{Id: trustCal}).Do()
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { wantGoogleError(t, call(), http.StatusNotFound, "notFound", "Not Found") })
	}
	if slices.Contains(s.CalendarList(), trustCal) {
		t.Error("an unshared calendar stays in the account's calendar list")
	}

	s.Share(trustCal)
	got, err := svc.Events.Get(trustCal, id).Do()
	if err != nil || got.Status != "confirmed" || got.Summary != "Eva Dvořák - office" {
		t.Fatalf("get after sharing again: %+v, %v", got, err)
	}
	if _, err := svc.Events.Insert(trustCal, pendingEvent("trustunshare02")).Do(); err != nil {
		t.Errorf("insert after sharing again: %v", err)
	}
	if slices.Contains(s.CalendarList(), trustCal) {
		t.Error("sharing again put the calendar back into the list without calendarList.insert")
	}
	if _, err := svc.CalendarList.Insert(&calendar.CalendarListEntry{Id: trustCal}).Do(); err != nil {
		t.Errorf("calendarList.insert after sharing again: %v", err)
	}
	if !slices.Contains(s.CalendarList(), trustCal) {
		t.Error("calendar not subscribed after calendarList.insert")
	}
}

func TestTrustShareReadOnly(t *testing.T) {
	t.Parallel()
	s, svc := startTrust(t)
	const id = "trustro000001"
	if _, err := svc.Events.Insert(trustCal, pendingEvent(id)).Do(); err != nil {
		t.Fatal(err)
	}
	s.ShareReadOnly(trustCal)
	if _, err := svc.Events.Get(trustCal, id).Do(); err != nil {
		t.Errorf("get on a read-only calendar: %v", err)
	}
	if _, err := svc.Events.List(trustCal).Do(); err != nil {
		t.Errorf("list on a read-only calendar: %v", err)
	}
	if _, err := svc.CalendarList.Insert(&calendar.CalendarListEntry{Id: trustCal}).Do(); err != nil {
		t.Errorf("calendarList.insert on a read-only calendar: %v", err)
	}
	const msg = "You need to have writer access to this calendar."
	_, err := svc.Events.Insert(trustCal, pendingEvent("trustro000002")).Do()
	wantGoogleError(t, err, http.StatusForbidden, "requiredAccessLevel", msg)
	_, err = svc.Events.Patch(trustCal, id, &calendar.Event{Summary: "x"}).Do()
	wantGoogleError(t, err, http.StatusForbidden, "requiredAccessLevel", msg)
	wantGoogleError(t, svc.Events.Delete(trustCal, id).Do(), http.StatusForbidden, "requiredAccessLevel", msg)
	if ev, _ := s.Event(trustCal, id); ev.Summary != "Eva Dvořák - office" || ev.Status != "confirmed" {
		t.Errorf("a refused write changed the event: %+v", ev)
	}
	s.Share(trustCal)
	if _, err := svc.Events.Patch(trustCal, id, &calendar.Event{Summary: "x"}).Do(); err != nil {
		t.Errorf("patch after sharing for writing: %v", err)
	}
}

// syncAll lists every page and returns the items and the next sync token.
func syncAll(t *testing.T, call *calendar.EventsListCall) ([]*calendar.Event, string) {
	t.Helper()
	var items []*calendar.Event
	for {
		page, err := call.Do()
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, page.Items...)
		if page.NextPageToken == "" {
			return items, page.NextSyncToken
		}
		call.PageToken(page.NextPageToken)
	}
}

func TestTrustRestore(t *testing.T) {
	t.Parallel()
	s, svc := startTrust(t)
	const id = "trustrestore01"
	if _, err := svc.Events.Insert(trustCal, pendingEvent(id)).Do(); err != nil {
		t.Fatal(err)
	}
	if err := s.Restore(trustCal, id); err == nil {
		t.Error("Restore of an event that is not deleted succeeded")
	}
	if err := svc.Events.Delete(trustCal, id).Do(); err != nil {
		t.Fatal(err)
	}
	deleted, err := svc.Events.Get(trustCal, id).Do()
	if err != nil || deleted.Status != "cancelled" {
		t.Fatalf("deleted event: %+v, %v", deleted, err)
	}
	_, token := syncAll(t, svc.Events.List(trustCal))

	if err := s.Restore(trustCal, id); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Events.Get(trustCal, id).Do()
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "confirmed" || got.Summary != "Eva Dvořák - office" {
		t.Errorf("restored event: status %q summary %q", got.Status, got.Summary)
	}
	if got.Etag == deleted.Etag {
		t.Error("restoring kept the etag")
	}
	before, _ := time.Parse(time.RFC3339, deleted.Updated)
	after, _ := time.Parse(time.RFC3339, got.Updated)
	if !after.After(before) {
		t.Errorf("updated %s not after the deletion's %s", got.Updated, deleted.Updated)
	}

	changes, _ := syncAll(t, svc.Events.List(trustCal).SyncToken(token))
	if len(changes) != 1 || changes[0].Id != id || changes[0].Status != "confirmed" {
		t.Errorf("incremental listing after the restore: %d items %+v", len(changes), changes)
	}

	for _, c := range [][2]string{{trustCal, "trustnoevent01"}, {"nocalendar@group.calendar.google.com", id}} {
		if err := s.Restore(c[0], c[1]); err == nil {
			t.Errorf("Restore(%q, %q) succeeded", c[0], c[1])
		}
	}
}

// A Fault with a Delay and no Status does the request at once and holds
// its answer back: a client that gives up first gets nothing, though the
// write happened (an unknown outcome, as with a slow Google).
func TestTrustSlowAnswer(t *testing.T) {
	t.Parallel()
	s, svc := startTrust(t)
	if _, err := svc.Events.List(trustCal).Do(); err != nil { // the token first
		t.Fatal(err)
	}
	const delay = 300 * time.Millisecond
	s.InjectFault(googlefake.MethodEventsInsert, 1, googlefake.Fault{Delay: delay})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	_, err := svc.Events.Insert(trustCal, pendingEvent("trustlate0001")).Context(ctx).Do()
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow insert: %v, want the client's deadline", err)
	}
	if _, ok := s.Event(trustCal, "trustlate0001"); !ok {
		t.Error("a slow insert was not stored: only its answer should wait")
	}

	// Waiting long enough gets the real answer; the fault is used up after one call.
	s.InjectFault(googlefake.MethodEventsInsert, 1, googlefake.Fault{Delay: 50 * time.Millisecond})
	late, err := svc.Events.Insert(trustCal, pendingEvent("trustlate0002")).Do()
	if err != nil {
		t.Fatalf("patient insert: %v", err)
	}
	if late.Id != "trustlate0002" || late.Status != "confirmed" || late.Etag == "" {
		t.Errorf("the late answer: %+v", late)
	}
	if _, ok := s.Event(trustCal, "trustlate0002"); !ok {
		t.Error("the late insert was not stored")
	}
	ctx, cancel = context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	if _, err := svc.Events.Insert(trustCal, pendingEvent("trustlate0003")).Context(ctx).Do(); err != nil {
		t.Errorf("insert after the fault was used: %v", err)
	}

	// With a Status, the error comes late.
	s.InjectFault(googlefake.MethodEventsGet, 1, googlefake.Fault{Status: 503, Delay: 50 * time.Millisecond})
	_, err = svc.Events.Get(trustCal, "trustlate0002").Do()
	wantGoogleError(t, err, http.StatusServiceUnavailable, "backendError", "Backend Error")
}
