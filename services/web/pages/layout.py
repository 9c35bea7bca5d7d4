"""The frame of every page: French, a skip link, the navigation, the messages of the last action."""

from __future__ import annotations

from services.web.pages.markup import csrf_field, esc
from services.web.sessions import Session

CURRENT = ' aria-current="page"'
WORKLIST = ("/liste", "Liste de travail")
DASHBOARD = ("/tableau", "Tableau de bord du territoire")
TRANSFERS = ("/transferts", "Transferts de portefeuille")
REVIEWS = ("/revues", "Revues d'identité")


def _links(session: Session) -> tuple[tuple[str, str], ...]:
    """Only the pages the services will answer this key: a structure's users their worklist and transfers; the
    coordinator the worklist, the territory's dashboard and identity reviews; an auditor the dashboard."""
    if session.acts_for_a_structure:
        return (WORKLIST, TRANSFERS)
    if session.sees_everyone and session.reads_worklists:
        return (WORKLIST, DASHBOARD, REVIEWS)
    return (DASHBOARD,)


def _who(session: Session) -> str:
    if not session.reads_worklists:
        return "audit (lecture seule)"
    return "coordination du territoire" if session.sees_everyone else (session.structure or "structure")


def _nav(session: Session | None, current: str) -> str:
    if session is None or not session.signed_in:
        return ""
    links = "".join(f'<li><a href="{path}"{CURRENT if path == current else ""}>{esc(text)}</a></li>'
                    for path, text in _links(session))
    who = _who(session)
    return (f'<nav aria-label="Navigation principale"><ul>{links}</ul>'
            f'<p class="who">Connecté : {esc(who)}</p>'
            f'<form method="post" action="/deconnexion">{csrf_field(session.csrf)}'
            f'<button type="submit">Se déconnecter</button></form></nav>')


def _messages(messages: list[tuple[str, str]]) -> str:
    # An error is announced at once by screen readers (role=alert); a confirmation politely (role=status).
    out = []
    for kind, text in messages:
        role = "alert" if kind == "error" else "status"
        out.append(f'<p class="message {esc(kind)}" role="{role}">{esc(text)}</p>')
    return "".join(out)


def page(title: str, body: str, *, session: Session | None = None, current: str = "",
         messages: list[tuple[str, str]] | None = None) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{esc(title)} · Ariane</title><link rel="stylesheet" href="/static/ariane.css"></head><body>'
        '<a class="skip" href="#contenu">Aller au contenu</a>'
        f'<header><p class="brand">Ariane</p>{_nav(session, current)}</header>'
        f'<main id="contenu" tabindex="-1"><h1>{esc(title)}</h1>{_messages(messages or [])}{body}</main>'
        '</body></html>'
    )
