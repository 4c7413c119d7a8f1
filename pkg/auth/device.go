package auth

import "strings"

// Device names the browser and system of a user agent for people: "Firefox on
// Windows". It recognizes the common ones and says "Unknown" otherwise.
func Device(ua string) string {
	if ua == "" {
		return "Unknown device"
	}
	l := strings.ToLower(ua)
	browser := "Unknown browser"
	for _, b := range []struct{ token, name string }{
		{"edg/", "Edge"}, {"opr/", "Opera"}, {"opera", "Opera"}, {"samsungbrowser", "Samsung Internet"},
		{"firefox/", "Firefox"}, {"fxios", "Firefox"}, {"crios", "Chrome"}, {"chrome/", "Chrome"},
		{"chromium", "Chromium"}, {"safari/", "Safari"}, {"curl/", "curl"}, {"wget/", "Wget"},
		{"postmanruntime", "Postman"}, {"python-requests", "Python requests"}, {"go-http-client", "Go HTTP client"},
		{"okhttp", "OkHttp"},
	} {
		if strings.Contains(l, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, s := range []struct{ token, name string }{
		{"iphone", "iOS"}, {"ipad", "iPadOS"}, {"android", "Android"}, {"cros", "ChromeOS"},
		{"windows", "Windows"}, {"mac os x", "macOS"}, {"macintosh", "macOS"}, {"linux", "Linux"},
	} {
		if strings.Contains(l, s.token) {
			system = s.name
			break
		}
	}
	if system == "" {
		return browser
	}
	return browser + " on " + system
}
