"""Tools around the bot, not the bot: the Bot API emulator and the terminal console."""
