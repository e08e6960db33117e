package google

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"cloud.google.com/go/auth"
	"google.golang.org/api/googleapi"

	"github.com/moffman/moffman"
)

// Google answers 401 to an access token revoked before its expiry (a key
// rotation, an early revocation). The cached token would keep failing for
// up to an hour, so, as Google's own client libraries do, the adapters
// drop it, fetch a fresh one and repeat the request once. The token cache
// and the authorizing transport are ours (tokens, authTransport) because
// the library's cannot be told a token was refused; the key-for-token
// exchange is the library's (auth.New2LOTokenProvider).

// defaultTokenURL is Google's OAuth endpoint, for keys without token_uri.
const defaultTokenURL = "https://oauth2.googleapis.com/token"

// tokens caches the access token of one scope, can drop a refused token,
// and remembers whether Google refuses the credentials (CredentialsError).
type tokens struct {
	account  string
	exchange auth.TokenProvider // the uncached JWT-for-token exchange
	fetching sync.Mutex         // one exchange at a time; held over the request

	mu      sync.Mutex
	current *auth.Token
	refused error // why Google refuses the credentials; nil since the last exchange or API answer that worked
}

// newTokens reads the service-account key and prepares the exchange for
// scope (sent with the library's default client).
func newTokens(key []byte, account, scope string) (*tokens, error) {
	var kf struct {
		PrivateKey   string `json:"private_key"`
		PrivateKeyID string `json:"private_key_id"`
		TokenURI     string `json:"token_uri"`
	}
	if err := json.Unmarshal(key, &kf); err != nil {
		return nil, moffman.WrapError(moffman.Invalid, err, "the service-account key (google_api.service_account_key_path) is not valid JSON")
	}
	if err := checkPrivateKey(kf.PrivateKey); err != nil {
		return nil, moffman.WrapError(moffman.Invalid, err,
			"the private_key of the service-account key (google_api.service_account_key_path) is unusable; download a new JSON key from the Google Cloud console")
	}
	if kf.TokenURI == "" {
		kf.TokenURI = defaultTokenURL
	}
	tp, err := auth.New2LOTokenProvider(&auth.Options2LO{
		Email:        account,
		PrivateKey:   []byte(kf.PrivateKey),
		PrivateKeyID: kf.PrivateKeyID,
		Scopes:       []string{scope},
		TokenURL:     kf.TokenURI,
	})
	if err != nil {
		return nil, moffman.WrapError(moffman.Invalid, err, "cannot use the service-account key (google_api.service_account_key_path)")
	}
	return &tokens{account: account, exchange: tp}, nil
}

// checkPrivateKey accepts what the auth library signs with: a PEM block
// holding a PKCS #8 or PKCS #1 RSA key.
func checkPrivateKey(p string) error {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return errors.New("no PEM block in private_key")
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return nil
	}
	_, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	return err
}

// Token returns the cached token while it is valid (with the library's
// early-expiry margin), otherwise exchanges the key for a new one.
func (t *tokens) Token(ctx context.Context) (*auth.Token, error) {
	if tok := t.valid(); tok != nil {
		return tok, nil
	}
	t.fetching.Lock()
	defer t.fetching.Unlock()
	if tok := t.valid(); tok != nil { // fetched while we waited
		return tok, nil
	}
	tok, err := t.exchange.Token(ctx)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		if refusal(err) {
			t.refused = t.refusedError(err, "the token endpoint refused the key")
		}
		return nil, err
	}
	t.current, t.refused = tok, nil
	return tok, nil
}

func (t *tokens) valid() *auth.Token {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.current.IsValid() {
		return t.current
	}
	return nil
}

// drop forgets value when it is still the cached token (a concurrent
// request may have replaced it already).
func (t *tokens) drop(value string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.current != nil && t.current.Value == value {
		t.current = nil
	}
}

// refuse records that Google answered 401 to a token just fetched.
func (t *tokens) refuse(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.refused = t.refusedError(err, "Google answered 401 to a freshly fetched access token")
}

// accepted records that the API took a token: whatever refused the
// credentials before has ended.
func (t *tokens) accepted() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.refused = nil
}

// err is nil while Google accepts the credentials.
func (t *tokens) err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.refused
}

func (t *tokens) refusedError(err error, what string) error {
	return moffman.WrapError(moffman.Unavailable, err,
		"Google refuses the credentials of the service account %s (%s); check that its key is valid and not revoked, and google_api.service_account_key_path",
		t.account, what)
}

// refusal reports whether the token endpoint refused the key (a 4xx such
// as invalid_grant), rather than failing for a while (5xx, no answer).
func refusal(err error) bool {
	var ae *auth.Error
	return errors.As(err, &ae) && ae.Response != nil &&
		ae.Response.StatusCode >= 400 && ae.Response.StatusCode < 500 && ae.Response.StatusCode != http.StatusTooManyRequests
}

// credentialsRefused translates a final error that says Google refuses the
// credentials, nil for any other error: the token endpoint refused the key,
// or the API answered 401 even after the token was fetched anew.
func credentialsRefused(err error, account, api, method, what string) error {
	if refusal(err) {
		return moffman.WrapError(moffman.Upstream, err,
			"Google refused the credentials of the service account %s (token endpoint: %s, for %s %s of %s); check that its key is valid and not revoked, and google_api.service_account_key_path",
			account, describe(err, 0), api, method, what)
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) && ge.Code == http.StatusUnauthorized {
		return moffman.WrapError(moffman.Upstream, err,
			"Google refused the credentials of the service account %s even with a fresh access token (%s %s of %s: %s); check that its key is valid and not revoked, and google_api.service_account_key_path",
			account, api, method, what, googleMessage(ge))
	}
	return nil
}

// authTransport authorizes every request with the cached access token
// and, when the API answers 401, drops that token and repeats the request
// once with a fresh one. (The library's own authorizing transport caches
// tokens in a way that cannot be told a token was refused.)
type authTransport struct {
	base   http.RoundTripper
	tokens *tokens
}

func (at authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := at.tokens.Token(req.Context())
	if err != nil {
		closeBody(req.Body)
		return nil, err
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	resp, err := at.base.RoundTrip(authorized(req, tok))
	if err == nil && resp.StatusCode != http.StatusUnauthorized {
		at.tokens.accepted()
	}
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !replayable {
		return resp, err
	}
	body := req.Body
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return resp, nil // keep Google's 401
		}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // only to reuse the connection
	resp.Body.Close()
	at.tokens.drop(tok.Value)
	markReauth(req.Context())
	if tok, err = at.tokens.Token(req.Context()); err != nil {
		closeBody(body)
		return nil, err
	}
	again := authorized(req, tok)
	again.Body = body
	resp, err = at.base.RoundTrip(again)
	switch {
	case err != nil:
	case resp.StatusCode == http.StatusUnauthorized:
		at.tokens.refuse(fmt.Errorf("HTTP 401 from %s %s", req.Method, req.URL.Path))
	default:
		at.tokens.accepted()
	}
	return resp, err
}

// authorized is a copy of req with tok in its Authorization header (a
// RoundTripper must not change the request it was given).
func authorized(req *http.Request, tok *auth.Token) *http.Request {
	r := req.Clone(req.Context())
	typ := tok.Type
	if typ == "" {
		typ = "Bearer"
	}
	r.Header.Set("Authorization", typ+" "+tok.Value)
	return r
}

func closeBody(b io.ReadCloser) {
	if b != nil {
		b.Close()
	}
}

// reauthNote tells caller.do that an attempt was repeated with a fresh
// token, which it counts as a "retry" in OnCall.
type reauthNote struct {
	mu       sync.Mutex
	repeated int
}

type reauthNoteKey struct{}

func withReauthNote(ctx context.Context) (context.Context, *reauthNote) {
	n := &reauthNote{}
	return context.WithValue(ctx, reauthNoteKey{}, n), n
}

func markReauth(ctx context.Context) {
	if n, ok := ctx.Value(reauthNoteKey{}).(*reauthNote); ok {
		n.mu.Lock()
		n.repeated++
		n.mu.Unlock()
	}
}

func (n *reauthNote) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.repeated
}

// CredentialsError is nil while Google accepts the service account's
// credentials for Calendar, otherwise an Unavailable error saying why
// (for /readyz): the token endpoint refused the key, or the API refused a
// token just fetched. It turns nil by itself with the next token exchange
// or API call that succeeds (the periodic sync makes them).
func (c *Calendar) CredentialsError() error { return c.tokens.err() }

// CredentialsError is [Calendar.CredentialsError] for Sheets.
func (d *Directory) CredentialsError() error { return d.tokens.err() }
