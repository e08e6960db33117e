package google

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
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
// is ours (tokens) rather than auth.NewCachedTokenProvider because that
// one cannot be told a token was refused.

// defaultTokenURL is Google's OAuth endpoint, for keys without token_uri.
const defaultTokenURL = "https://oauth2.googleapis.com/token"

// tokens caches the access token of one scope. It is the token provider of
// the adapter's credentials, can drop a refused token, and remembers
// whether Google refuses the credentials (see CredentialsError).
type tokens struct {
	account  string
	exchange auth.TokenProvider // the uncached JWT-for-token exchange
	fetching sync.Mutex         // one exchange at a time; held over the request

	mu      sync.Mutex
	current *auth.Token
	refused error // why Google refuses the credentials; nil when the last exchange worked
}

// newTokens reads the service-account key and prepares the exchange for
// scope; tokenClient sends the exchanges (nil: the library's default).
func newTokens(key []byte, account, scope string, tokenClient *http.Client) (*tokens, error) {
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
		Client:       tokenClient,
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
// early-expiry margin), otherwise exchanges the key for a new one. It
// notes the token handed out in ctx for reauthTransport.
func (t *tokens) Token(ctx context.Context) (*auth.Token, error) {
	if tok := t.valid(); tok != nil {
		noteToken(ctx, tok)
		return tok, nil
	}
	t.fetching.Lock()
	defer t.fetching.Unlock()
	if tok := t.valid(); tok != nil { // fetched while we waited
		noteToken(ctx, tok)
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
	noteToken(ctx, tok)
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

// reauthTransport repeats a request once with a fresh token when the API
// answers 401. It sits above the library's authenticating transport, which
// takes the token from tokens for every round trip.
type reauthTransport struct {
	next   http.RoundTripper
	tokens *tokens
}

func (rt reauthTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	used := &usedToken{}
	resp, err := rt.next.RoundTrip(req.WithContext(context.WithValue(req.Context(), usedTokenKey{}, used)))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || used.value == "" {
		return resp, err
	}
	if req.Body != nil && req.GetBody == nil {
		return resp, nil // cannot send the body again
	}
	again := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		again.Body = body
	}
	resp.Body.Close()
	rt.tokens.drop(used.value)
	markReauth(req.Context())
	resp, err = rt.next.RoundTrip(again)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		rt.tokens.refuse(fmt.Errorf("HTTP 401 from %s %s", req.Method, req.URL.Path))
	}
	return resp, err
}

// usedToken is where tokens notes which token a round trip was sent with.
type usedToken struct{ value string }

type usedTokenKey struct{}

func noteToken(ctx context.Context, tok *auth.Token) {
	if u, ok := ctx.Value(usedTokenKey{}).(*usedToken); ok {
		u.value = tok.Value
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
// (for /readyz). It turns nil by itself when a later token exchange
// succeeds; exchanges happen with the next call that needs a token.
func (c *Calendar) CredentialsError() error { return c.tokens.err() }

// CredentialsError is [Calendar.CredentialsError] for Sheets.
func (d *Directory) CredentialsError() error { return d.tokens.err() }
