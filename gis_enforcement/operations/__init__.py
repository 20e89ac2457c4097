"""Operations that compose the services: joint-operation plans (联合执法) made from the analyses and carried out
through intake and the whistle chain."""
