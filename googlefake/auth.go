package googlefake

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// OAuth scopes the endpoints check.
const (
	scopeCalendar = "https://www.googleapis.com/auth/calendar"
	scopeSheets   = "https://www.googleapis.com/auth/spreadsheets"
	scopeDrive    = "https://www.googleapis.com/auth/drive"
)

const jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// tokenLifetime is what Google answers in expires_in.
const tokenLifetime = 3599 * time.Second

// grant is what an issued access token allows.
type grant struct {
	scopes  []string
	expires time.Time
}

// token implements the service-account flow (RFC 7523): the client posts an
// RS256 JWT signed with the key from KeyJSON and gets a bearer token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Malformed request body.")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != jwtBearer {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+gt)
		return
	}
	claims, ok := s.verifyJWT(r.PostForm.Get("assertion"))
	if !ok {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	s.mu.Lock()
	revoked := s.keyRevoked
	s.mu.Unlock()
	if revoked {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	if claims.Iss != serviceAccountEmail {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "Invalid grant: account not found")
		return
	}
	if want := s.expectedAudience(r); claims.Aud != want {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant",
			"Invalid JWT: Failed audience check. The right audience is "+want)
		return
	}
	now := time.Now().Unix()
	const skew = 60
	if claims.Exp <= now || claims.Iat > now+skew || claims.Exp <= claims.Iat || claims.Exp-claims.Iat > 3600 {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant",
			"Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
		return
	}
	scopes := strings.Fields(claims.Scope)
	if len(scopes) == 0 {
		writeOAuthError(w, http.StatusBadRequest, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
		return
	}
	tok := "ya29.fake-" + randomHex(24)
	s.mu.Lock()
	s.grants[tok] = grant{scopes: scopes, expires: time.Now().Add(tokenLifetime)}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int(tokenLifetime / time.Second),
	})
}

// expectedAudience is the token URL; before SetURL it is derived from the
// request so that a bare Handler still works.
func (s *Server) expectedAudience(r *http.Request) string {
	if u := s.URL(); u != "" {
		return u + "/token"
	}
	return "http://" + r.Host + "/token"
}

type jwtClaims struct {
	Iss   string `json:"iss"`
	Scope string `json:"scope"`
	Aud   string `json:"aud"`
	Exp   int64  `json:"exp"`
	Iat   int64  `json:"iat"`
	Sub   string `json:"sub"`
}

// verifyJWT checks an RS256 compact JWS against the account's public key and
// returns its claims.
func (s *Server) verifyJWT(jwt string) (jwtClaims, bool) {
	var c jwtClaims
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return c, false
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if !decodeSegment(parts[0], &header) || header.Alg != "RS256" {
		return c, false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return c, false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return c, false
	}
	return c, decodeSegment(parts[1], &c)
}

func decodeSegment(seg string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	return err == nil && json.Unmarshal(b, v) == nil
}

// writeOAuthError answers in RFC 6749's format, as Google's token endpoint does.
func writeOAuthError(w http.ResponseWriter, code int, errCode, desc string) {
	writeJSON(w, code, map[string]string{"error": errCode, "error_description": desc})
}

// authorize checks the bearer token and that it was granted one of scopes;
// it writes Google's 401/403 and returns false otherwise.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, scopes []string) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/"`)
		writeError(w, apiError{Code: http.StatusUnauthorized, Reason: "required", Message: "Login Required.",
			Location: "Authorization", LocationType: "header"})
		return false
	}
	s.mu.Lock()
	g, ok := s.grants[tok]
	s.mu.Unlock()
	if !ok || time.Now().After(g.expires) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		writeError(w, apiError{Code: http.StatusUnauthorized, Reason: "authError", Message: "Invalid Credentials",
			Location: "Authorization", LocationType: "header"})
		return false
	}
	for _, sc := range scopes {
		if slices.Contains(g.scopes, sc) {
			return true
		}
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="insufficient_scope"`)
	writeError(w, apiError{Code: http.StatusForbidden, Reason: "insufficientPermissions",
		Message: "Request had insufficient authentication scopes."})
	return false
}
