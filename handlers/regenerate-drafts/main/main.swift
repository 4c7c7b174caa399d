import BatonHandlerKit
import RegenerateDrafts
HandlerMain.run(RegenerateDraftsHandler())
