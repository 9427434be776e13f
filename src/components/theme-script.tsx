/**
 * The stored choice in localStorage.theme: "light", "dark" or "system" (the default when
 * nothing or anything else is stored).
 */
export const THEME_STORAGE_KEY = "theme";

// Why raw script HTML: the `.dark` class must be on <html> before the first paint, or a
// dark-mode visitor sees a white flash. React effects run only after paint, so this has to be
// an inline script in <head>. It is a fixed string with no user data in it, and the only
// place in the app allowed to use dangerouslySetInnerHTML.
// In "system" mode it also follows the OS when the preference changes while the page is open.
const themeScriptSource = `(function () {
  var root = document.documentElement;
  var media = window.matchMedia("(prefers-color-scheme: dark)");
  function storedTheme() {
    try {
      return window.localStorage.getItem(${JSON.stringify(THEME_STORAGE_KEY)});
    } catch (error) {
      return null;
    }
  }
  function applyTheme() {
    var theme = storedTheme();
    var dark = theme === "dark" || (theme !== "light" && media.matches);
    root.classList.toggle("dark", dark);
    root.style.colorScheme = dark ? "dark" : "light";
  }
  applyTheme();
  media.addEventListener("change", applyTheme);
})();`;

/** `nonce`: this request's Content-Security-Policy nonce, without which the browser would not run it. */
export function ThemeScript({ nonce }: { nonce?: string }) {
  return <script nonce={nonce} dangerouslySetInnerHTML={{ __html: themeScriptSource }} />;
}
