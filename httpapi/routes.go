package httpapi

import (
	"github.com/labstack/echo/v4"
)

func (s *Server) routes() {
	e := s.e
	e.GET("/healthz", s.healthz)
	e.GET("/openapi.json", s.openapi)
	e.GET("/livez", s.livez)
	e.GET("/readyz", s.readyz)
	if s.opt.MetricsHandler != nil {
		e.GET("/metrics", echo.WrapHandler(s.opt.MetricsHandler))
	}

	e.POST("/zato/sso/user/login", s.login)
	e.POST("/zato/sso/user/logout", s.logout)
	e.GET("/zato/sso/user", s.getUser)
	e.POST("/zato/sso/user", s.createUser)
	e.POST("/zato/sso/user/approve", s.approve)
	e.POST("/zato/sso/user/reject", s.reject)
	e.PATCH("/zato/sso/user", s.updateUser)
	e.DELETE("/zato/sso/user", s.deleteUser)
	e.POST("/zato/sso/user/lock", s.lockUser)
	e.DELETE("/zato/sso/user/lock", s.unlockUser)
	e.PATCH("/zato/sso/user/password", s.changePassword)
	e.PATCH("/zato/sso/user/totp", s.setTOTP)
	e.GET("/zato/sso/user/search", s.searchUsers)
	e.POST("/zato/sso/user/signup", s.signup)
	e.PATCH("/zato/sso/user/signup", s.confirmSignup)
	e.POST("/zato/sso/user/session", s.verifySession)
	e.GET("/zato/sso/user/session", s.getSession)
	e.PATCH("/zato/sso/user/session", s.renewSession)
	e.GET("/zato/sso/user/session/list", s.listSessions)
	e.GET("/zato/sso/events", s.events)

	for _, p := range []struct {
		prefix  string
		session bool
	}{{"/zato/sso/user/attr", false}, {"/zato/sso/session/attr", true}} {
		h := attrHandlers{s: s, session: p.session}
		e.POST(p.prefix, h.create)
		e.PUT(p.prefix, h.set)
		e.PATCH(p.prefix, h.update)
		e.GET(p.prefix, h.get)
		e.DELETE(p.prefix, h.delete)
		e.GET(p.prefix+"/exists", h.exists)
		e.GET(p.prefix+"/names", h.names)
		e.GET(p.prefix+"/history", h.history)
	}
}
