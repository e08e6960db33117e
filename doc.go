// Package moffman keeps the planned office attendance of teams working from
// several offices.
//
// Each office has one shared calendar; a planned office day is an all-day
// event in it. This root package holds the domain (offices, people, events
// and their states), the error vocabulary, the ports to outside systems
// (Calendar, StateStore, DirectorySource, FormIssuer) and the services that
// use them. It imports nothing from Google, SQL or HTTP: adapters live in
// their own packages and cmd/moffman wires them together.
package moffman
