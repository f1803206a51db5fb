package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ssoattr/ssoattr/docs"
)

// openapi is GET /openapi.json: the OpenAPI 3.1 document of this API
// (docs/API.md#openapi), embedded in the binary.
func (s *Server) openapi(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, docs.OpenAPI)
}
