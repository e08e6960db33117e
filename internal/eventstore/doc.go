// Package eventstore holds the mechanics the event stores (sqlite,
// postgres, caldav) share, so that each rule of Google's events.list they
// copy lives once: the checks of a listing query, the page and sync
// tokens, the date bounds of a window and private properties as JSON.
// The domain rules of an event itself (ids, dates, colours) are in the
// root package.
package eventstore
