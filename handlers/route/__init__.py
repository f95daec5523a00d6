from handlers.route.builder import *  # noqa: F403
from handlers.route.builder import make_router as make_router
