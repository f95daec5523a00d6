from handlers.assessment.quiz import *  # noqa: F403
from handlers.assessment.quiz import make_router as make_router
