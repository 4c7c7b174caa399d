import AutoSend
import BatonHandlerKit
HandlerMain.run(AutoSendHandler())
