// Package docs holds the product's own documentation: the API reference
// (API.md), the event catalogue (events.md) and the performance notes. Its
// tests keep the repository's Markdown links resolvable.
package docs
