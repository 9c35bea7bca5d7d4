"""web: the coordinators' and counsellors' page, over the other services' HTTP APIs with the user's own key."""
