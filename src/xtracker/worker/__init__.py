"""Background work: the delivery loop (``xtracker worker``, and inside ``xtracker serve``)."""
