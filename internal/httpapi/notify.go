package httpapi

import (
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

type notificationList struct {
	Items      []booking.Notification `json:"items"`
	NextCursor string                 `json:"next_cursor,omitempty"`
	Unread     int                    `json:"unread"`
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	q := r.URL.Query()
	unreadOnly := q.Get("unread") == "true"
	if v := q.Get("unread"); v != "" && v != "true" && v != "false" {
		writeError(w, r, s.Logger, &booking.Error{Code: booking.EINVALID, Message: "unread must be true or false.", Details: map[string]any{"parameter": "unread"}})
		return
	}
	limit := 0
	if v := q.Get("limit"); v != "" {
		var err error
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 200 {
			writeError(w, r, s.Logger, &booking.Error{Code: booking.EINVALID, Message: "limit must be 1 to 200.", Details: map[string]any{"parameter": "limit"}})
			return
		}
	}
	items, next, err := s.Notifications.ListNotifications(r.Context(), a, unreadOnly, q.Get("cursor"), limit)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	unread, err := s.Notifications.UnreadCount(r.Context(), a)
	if items == nil {
		items = []booking.Notification{}
	}
	respond(w, r, s, notificationList{Items: items, NextCursor: next, Unread: unread}, err)
}

type markReadRequest struct {
	// IDs to mark read; empty marks every notification read.
	IDs []uuid.UUID `json:"ids"`
}

func (s *Server) markNotificationsRead(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req markReadRequest
	if r.ContentLength != 0 {
		if !s.body(w, r, &req) {
			return
		}
	}
	n, err := s.Notifications.MarkRead(r.Context(), a, req.IDs)
	respond(w, r, s, map[string]int{"marked": n}, err)
}

type webhookRequest struct {
	URL string `json:"url"`
}

type webhookCreated struct {
	booking.Webhook
	// Secret signs every delivery; it is shown this once.
	Secret string `json:"secret"`
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	var req webhookRequest
	if !s.body(w, r, &req) {
		return
	}
	hook, secret, err := s.Notifications.CreateWebhook(r.Context(), a, req.URL)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, webhookCreated{Webhook: hook, Secret: secret})
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	hs, err := s.Notifications.ListWebhooks(r.Context(), a)
	respond(w, r, s, list[booking.Webhook]{Items: hs}, err)
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	id, err := pathID(r)
	if err == nil {
		err = s.Notifications.DeleteWebhook(r.Context(), a, id)
	}
	noContent(w, r, s, err)
}
