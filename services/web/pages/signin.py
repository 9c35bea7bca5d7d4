"""The sign-in form: the user's access key, typed into a password field (never shown, never kept in the page)."""

from __future__ import annotations

from services.web.pages.markup import csrf_field


def signin_body(csrf: str) -> str:
    return ('<p>Connectez-vous avec la clé d\'accès de votre structure (elle commence par <code>ak_</code>) '
            'ou celle de la coordination du territoire.</p>'
            f'<form method="post" action="/connexion" class="signin">{csrf_field(csrf)}'
            '<div class="field"><label for="cle">Clé d\'accès</label>'
            '<input type="password" id="cle" name="token" required autocomplete="current-password" '
            'spellcheck="false" autocapitalize="off"></div>'
            '<button type="submit">Se connecter</button></form>')
