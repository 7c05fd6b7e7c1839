package handlers

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/coopfed/coopfed/coop"
	"github.com/gorilla/mux"
)

// The co-op's profile (issue 9): /admin/profile, where an admin changes
// the co-op's name, summary, avatar and header, and /media/{name}, where
// the images are served to browsers and to the servers of the co-op's
// followers.

// maxProfileForm bounds the profile form's body: both images at their
// limits and the text fields.
const maxProfileForm = coop.MaxAvatarBytes + coop.MaxHeaderBytes + 64<<10

type profilePage struct {
	Page
	Coop                 coop.Profile
	AvatarURL, HeaderURL string
	In                   struct{ Name, Summary string }
	// Errors by field ("" for the form as a whole).
	Errors map[string]string
	Saved  bool
	// The limits, as the form says them.
	MaxAvatar, MaxHeader string
	MaxSide              int
	MaxName, MaxSummary  int
}

// profileAdmin is the signed-in admin the profile pages act for; ok is
// false after a response was written (a visitor is sent to sign in, a
// member who is not an admin is refused).
func (a *app) profileAdmin(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	_, ctx, ok := a.admin(w, r)
	if !ok {
		return nil, false
	}
	return r.WithContext(ctx), true
}

func (a *app) profilePage(r *http.Request) (profilePage, error) {
	ctx := r.Context()
	c, err := a.svc.CoopProfile(ctx)
	if err != nil {
		return profilePage{}, err
	}
	p := profilePage{Page: a.basePage(ctx, "The co-op's profile"), Coop: c, Errors: map[string]string{},
		MaxAvatar: "2\u00a0MiB", MaxHeader: "4\u00a0MiB", MaxSide: coop.MaxImageSide, MaxName: coop.MaxCoopName, MaxSummary: coop.MaxCoopSummary}
	p.AvatarURL, p.HeaderURL = a.imageURL(c.Avatar), a.imageURL(c.Header)
	p.In.Name, p.In.Summary = c.Name, c.Summary
	return p, nil
}

// imageURL is where an image is served, "" for none.
func (a *app) imageURL(i *coop.Image) string {
	if i == nil {
		return ""
	}
	return a.site.MediaURL(*i)
}

// profileForm shows the co-op's profile form to an admin.
func (a *app) profileForm(w http.ResponseWriter, r *http.Request) {
	r, ok := a.profileAdmin(w, r)
	if !ok {
		return
	}
	p, err := a.profilePage(r)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	p.Saved = r.URL.Query().Get("saved") == "1"
	a.render(w, r, http.StatusOK, "adminprofile", p)
}

// changeProfile takes the profile form (multipart, for the images), then
// sends the admin back to it (post/redirect/get).
func (a *app) changeProfile(w http.ResponseWriter, r *http.Request) {
	r, ok := a.profileAdmin(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxProfileForm)
	err := r.ParseMultipartForm(maxProfileForm) // all in memory: no temporary files
	if errors.Is(err, http.ErrNotMultipart) {
		err = r.ParseForm()
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		a.fail(w, r, http.StatusRequestEntityTooLarge, "The images together are larger than the form takes: the avatar may be at most 2 MiB, the header at most 4 MiB.")
		return
	case err != nil:
		a.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	if !a.csrfOK(r) {
		a.fail(w, r, http.StatusForbidden, "This form has expired or did not come from this site: open the page again.")
		return
	}
	page, err := a.profilePage(r)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	name, summary := r.PostFormValue("name"), r.PostFormValue("summary")
	page.In.Name, page.In.Summary = name, summary
	ch := coop.ProfileChange{Name: &name, Summary: &summary,
		RemoveAvatar: r.PostFormValue("remove_avatar") != "", RemoveHeader: r.PostFormValue("remove_header") != ""}
	for _, f := range []struct {
		field string
		out   *[]byte
	}{{"avatar", &ch.Avatar}, {"header", &ch.Header}} {
		file, _, err := r.FormFile(f.field)
		if errors.Is(err, http.ErrMissingFile) {
			continue
		}
		if err != nil {
			page.Errors[f.field] = "The file could not be read."
			continue
		}
		*f.out, err = io.ReadAll(io.LimitReader(file, coop.MaxHeaderBytes+1))
		file.Close()
		if err != nil {
			page.Errors[f.field] = "The file could not be read."
		}
	}
	if len(page.Errors) == 0 {
		_, err = a.svc.UpdateCoopProfile(r.Context(), ch)
		var pe *coop.ProfileError
		switch {
		case err == nil:
			http.Redirect(w, r, "/admin/profile?saved=1", http.StatusSeeOther)
			return
		case errors.As(err, &pe):
			page.Errors[pe.Field] = upperFirst(pe.Reason) + "."
		default:
			a.serveError(w, r, err)
			return
		}
	}
	page.Errors[""] = "The profile was not changed: see what to change below. Choose the images again."
	a.render(w, r, http.StatusBadRequest, "adminprofile", page)
}

// media serves a stored image by its content's hash: forever cacheable,
// with the type read from the image when it was accepted and no sniffing.
func (a *app) media(w http.ResponseWriter, r *http.Request) {
	m, err := a.svc.MediaByName(r.Context(), mux.Vars(r)["name"])
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", m.MediaType)
	h.Set("Content-Length", strconv.Itoa(len(m.Bytes)))
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+m.SHA256+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	// Opened on its own, an image runs nothing.
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if r.Header.Get("If-None-Match") == `"`+m.SHA256+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method != http.MethodHead {
		w.Write(m.Bytes)
	}
}

// profileRoutes registers the profile form and the images.
func (a *app) profileRoutes(r *mux.Router) {
	r.HandleFunc("/admin/profile", a.profileForm).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/admin/profile", a.changeProfile).Methods(http.MethodPost)
	r.HandleFunc("/media/{name}", a.media).Methods(http.MethodGet, http.MethodHead)
}
